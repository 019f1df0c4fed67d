#include "core/cluster/membership.hpp"

#include <algorithm>

namespace beryl::cluster {

membership::membership(node_identity self, membership_settings settings)
    : self_(std::move(self)), settings_(settings) {}

void membership::learn_address(const std::string& address, time_point now) {
  if (address.empty() || address == self_.address) return;
  auto [it, inserted] = addresses_.try_emplace(address);
  if (inserted) it->second.next_attempt = now;
}

std::vector<std::string> membership::dials_due(time_point now) {
  std::vector<std::string> due;
  for (auto& [address, dial] : addresses_) {
    if (dial.connected || dial.dialling || dial.next_attempt > now) continue;
    dial.dialling = true;
    due.push_back(address);
  }
  return due;
}

bool membership::dial_failed(const std::string& address, time_point now) {
  auto it = addresses_.find(address);
  if (it == addresses_.end()) return false;
  auto& dial = it->second;
  dial.dialling = false;
  if (dial.connected) return false;  // reached meanwhile through the other direction
  dial.delay = std::clamp(dial.delay * 2, settings_.retry_min, settings_.retry_max);
  dial.next_attempt = now + dial.delay;
  if (!dial.failing_since) dial.failing_since = now;
  if (now - *dial.failing_since < settings_.warn_after) return false;
  if (dial.last_warning && now - *dial.last_warning < settings_.warn_every) return false;
  dial.last_warning = now;
  return true;
}

void membership::mark_connected(const std::string& address, bool connected, time_point now) {
  if (address.empty() || address == self_.address) return;
  auto [it, inserted] = addresses_.try_emplace(address);
  auto& dial = it->second;
  if (inserted) dial.next_attempt = now;
  dial.connected = connected;
  if (connected) {
    dial.dialling = false;
    dial.delay = std::chrono::milliseconds{0};
    dial.failing_since.reset();
    dial.last_warning.reset();
  } else {
    dial.next_attempt = now + settings_.retry_min;
  }
}

membership::admission membership::admit(const node_identity& peer, const std::string& dialled,
                                        time_point now) {
  admission result;
  auto [it, inserted] = peers_.try_emplace(peer.node);
  auto& entry = it->second;
  if (inserted || entry.incarnation != peer.incarnation) {
    if (!inserted) result.replaced = entry.incarnation;
    result.came_up = true;
  } else if (entry.status == peer_status::down) {
    result.came_up = true;
  }
  if (!inserted && entry.address != peer.address) mark_connected(entry.address, false, now);
  auto alias = dialled != peer.address ? dialled : std::string{};
  if (alias.empty() && entry.incarnation == peer.incarnation) alias = entry.dialled;
  entry = peer_entry{peer.incarnation, peer.address, alias, peer_status::up, true, now};
  mark_connected(peer.address, true, now);
  if (!alias.empty()) mark_connected(alias, true, now);
  return result;
}

bool membership::heartbeat(const std::string& node, std::uint64_t incarnation, time_point now) {
  auto it = peers_.find(node);
  if (it == peers_.end() || it->second.incarnation != incarnation || !it->second.connected)
    return false;
  it->second.last_heartbeat = now;
  if (it->second.status == peer_status::up) return false;
  it->second.status = peer_status::up;
  return true;
}

void membership::connection_lost(const std::string& node, std::uint64_t incarnation,
                                 time_point now) {
  auto it = peers_.find(node);
  if (it == peers_.end() || it->second.incarnation != incarnation) return;
  it->second.status = peer_status::down;
  it->second.connected = false;
  // Every address that led to it is dialled again: the advertised one and the one we dialled.
  mark_connected(it->second.address, false, now);
  if (!it->second.dialled.empty()) mark_connected(it->second.dialled, false, now);
}

std::vector<std::string> membership::silent_peers_down(time_point now) {
  std::vector<std::string> down;
  for (auto& [node, entry] : peers_) {
    if (entry.status != peer_status::up || now - entry.last_heartbeat < settings_.down_after)
      continue;
    entry.status = peer_status::down;
    down.push_back(node);
  }
  return down;
}

bool membership::is_up(const std::string& node, std::uint64_t incarnation) const {
  auto it = peers_.find(node);
  return it != peers_.end() && it->second.incarnation == incarnation &&
         it->second.status == peer_status::up;
}

std::vector<peer_view> membership::peers(time_point now) const {
  std::vector<peer_view> out;
  for (const auto& [node, entry] : peers_)
    out.push_back(
        {node, entry.address, entry.status,
         std::chrono::duration_cast<std::chrono::milliseconds>(now - entry.last_heartbeat)});
  return out;
}

std::size_t membership::up_count() const {
  return static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [](const auto& p) {
    return p.second.status == peer_status::up;
  }));
}

std::vector<std::string> membership::known_addresses() const {
  std::vector<std::string> out;
  for (const auto& [node, entry] : peers_) out.push_back(entry.address);
  return out;
}

}  // namespace beryl::cluster
