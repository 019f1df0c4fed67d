#include "core/presence/replication.hpp"

#include "core/presence/codec.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace beryl::presence {
namespace {

namespace json = boost::json;

void append(diff& into, diff&& more) {
  for (auto& [topic, changes] : more) {
    auto& target = into[topic];
    for (auto& e : changes.joins) target.joins.push_back(std::move(e));
    for (auto& e : changes.leaves) target.leaves.push_back(std::move(e));
  }
}

// vsns are start times: a later start of a node has a greater one. Comparing by length first
// orders decimal numbers numerically, and still orders any other strings totally.
bool newer_vsn(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() > b.size();
  return a > b;
}

// `a` has seen at least what `b` has on every replica both list, as Phoenix's
// dominates_on_shared?: a replica only one side knows (a down one, say) proves nothing.
bool dominates_on_shared(const clock_map& a, const clock_map& b) {
  for (const auto& [replica, clock] : b) {
    auto mine = a.find(replica);
    if (mine != a.end() && mine->second < clock) return false;
  }
  return true;
}

// Replicas where `remote` lacks dots that `target` has.
bool lags(const clock_map& remote, const clock_map& target) {
  return !dominates_on_shared(remote, target);
}

// `g` gives a replica at `remote` every dot it lacks up to `target`: it starts no later than
// `remote` on each replica both know, and reaches `target` wherever `remote` is behind it.
bool closes_gap(const delta& g, const clock_map& remote, const clock_map& target) {
  for (const auto& [replica, start] : g.start) {
    auto known = remote.find(replica);
    if (known != remote.end() && known->second < start) return false;
  }
  for (const auto& [replica, clock] : target) {
    auto known = remote.find(replica);
    if (known == remote.end() || known->second >= clock) continue;
    auto end = g.end.find(replica);
    if (end == g.end.end() || end->second < clock) return false;
  }
  return true;
}

void drop_replica(delta& d, const replica_id& replica) {
  d.start.erase(replica);
  d.end.erase(replica);
  d.clouds.erase(replica);
  auto first = d.values.lower_bound(dot{replica, 0});
  auto last = first;
  while (last != d.values.end() && last->first.replica == replica) ++last;
  d.values.erase(first, last);
}

}  // namespace

std::optional<std::string> settings_error(const replication_settings& s) {
  if (s.broadcast_period <= std::chrono::milliseconds::zero()) {
    return "broadcast_period must be positive";
  }
  if (s.down_period < 2 * s.broadcast_period) {
    return "down_period must be at least twice the broadcast_period";
  }
  // Otherwise an idle peer is declared down between two of its heartbeats.
  if (s.down_period <= s.broadcast_period * (s.max_silent_periods + 1)) {
    return "down_period must exceed broadcast_period * (max_silent_periods + 1)";
  }
  if (s.permdown_period <= s.down_period) return "permdown_period must exceed down_period";
  if (s.clock_sample_periods == 0) return "clock_sample_periods must be at least 1";
  return std::nullopt;
}

// ---- replicator: local operations ---------------------------------------------------------

replicator::replicator(replica_id self, replication_settings settings)
    : settings_(std::move(settings)),
      local_(std::move(self)),
      silent_periods_(settings_.max_silent_periods),  // the first tick always heartbeats
      ticks_to_sample_(settings_.clock_sample_periods) {
  if (auto why = settings_error(settings_)) throw std::invalid_argument(*why);
}

op_result replicator::track(const std::string& pid, const std::string& topic,
                            const std::string& key, boost::json::object meta) {
  return local_.track(pid, topic, key, std::move(meta));
}

op_result replicator::update(const std::string& pid, const std::string& topic,
                             const std::string& key, boost::json::object meta) {
  return local_.update(pid, topic, key, std::move(meta));
}

diff replicator::untrack(const std::string& pid, const std::string& topic, const std::string& key) {
  return local_.untrack(pid, topic, key);
}

diff replicator::untrack_all(const std::string& pid) {
  return local_.untrack_all(pid);
}

// ---- replicator: peers --------------------------------------------------------------------

std::vector<outgoing> replicator::peer_connected(const std::string& node) {
  if (node == self().node) return {};
  connected_.insert(node);
  return {outgoing{{node}, heartbeat{std::nullopt, local_.clocks()}}};
}

void replicator::peer_lost(const std::string& node) {
  connected_.erase(node);
}

std::optional<replica_id> replicator::replica_of(const std::string& node) const {
  auto found = peers_.find(node);
  if (found == peers_.end() || found->second.retired) return std::nullopt;
  return found->second.replica;
}

std::vector<std::string> replicator::recipients() const {
  return {connected_.begin(), connected_.end()};
}

// ---- replicator: tick ---------------------------------------------------------------------

effects replicator::tick(time_point now) {
  effects out;
  broadcast_heartbeat(out);
  if (--ticks_to_sample_ == 0) {
    request_transfers(out);
    ticks_to_sample_ = settings_.clock_sample_periods;
  }
  detect_downs(now, out);
  return out;
}

void replicator::broadcast_heartbeat(effects& out) {
  heartbeat beat;
  if (local_.has_delta()) {
    beat.changes = local_.take_delta();
    shipped_clock_ = local_.clock();
    push_generation(*beat.changes);
    silent_periods_ = 0;
  } else if (silent_periods_ >= settings_.max_silent_periods) {
    silent_periods_ = 0;
  } else {
    ++silent_periods_;
    return;
  }
  beat.clocks = local_.clocks();
  auto to = recipients();
  if (!to.empty()) out.messages.push_back({std::move(to), std::move(beat)});
}

void replicator::request_transfers(effects& out) {
  auto clocks = local_.clocks();
  for (const auto& replica : peers_ahead()) {
    out.messages.push_back({{replica.node}, transfer_request{clocks}});
  }
  pending_clocks_.clear();
}

// The followed peers whose last clocks show dots this replica lacks, less those that another
// such peer covers (Phoenix's clockset): one transfer from the best-informed peer is enough.
std::vector<replica_id> replicator::peers_ahead() const {
  auto ours = local_.clocks();
  std::vector<std::pair<replica_id, const clock_map*>> ahead;
  auto covers = [](const clock_map& clocks) {
    return [&clocks](const auto& other) { return dominates_on_shared(*other.second, clocks); };
  };
  for (const auto& pending : pending_clocks_) {
    const auto& replica = pending.first;
    const auto& clocks = pending.second;  // a plain reference: lambdas below capture it
    if (!lags(ours, clocks) || replica_of(replica.node) != replica) continue;
    if (std::any_of(ahead.begin(), ahead.end(), covers(clocks))) continue;
    ahead.erase(std::remove_if(
                    ahead.begin(), ahead.end(),
                    [&](const auto& other) { return dominates_on_shared(clocks, *other.second); }),
                ahead.end());
    ahead.emplace_back(replica, &clocks);
  }
  std::vector<replica_id> out;
  out.reserve(ahead.size());
  for (const auto& [replica, clocks] : ahead) out.push_back(replica);
  return out;
}

effects replicator::node_left(const std::string& node) {
  effects out;
  auto found = peers_.find(node);
  if (found == peers_.end() || found->second.retired) return out;
  found->second.retired = true;
  retire(found->second.replica, out);
  return out;
}

void replicator::detect_downs(time_point now, effects& out) {
  for (auto& [node, p] : peers_) {
    if (p.retired) continue;
    auto silence = now - p.last_heartbeat;
    if (silence > settings_.permdown_period) {
      p.retired = true;
      retire(p.replica, out);
    } else if (silence > settings_.down_period && p.status == replica_status::up) {
      p.status = replica_status::down;
      append(out.changes, local_.replica_down(p.replica));
      out.events.push_back({replica_event::kind::down, p.replica});
    }
  }
}

// ---- replicator: receive ------------------------------------------------------------------

effects replicator::receive(const replica_id& from, const peer_message& message, time_point now) {
  if (from.node == self().node || local_.is_retired(from)) return {};  // stale or misaddressed
  if (const auto* beat = std::get_if<heartbeat>(&message)) return on_heartbeat(from, *beat, now);
  if (const auto* request = std::get_if<transfer_request>(&message)) {
    return on_transfer_request(from, *request);
  }
  return on_transfer(std::get<transfer>(message));
}

// Bookkeeping first, so that the delta of a replica seen for the first time is not ignored.
effects replicator::on_heartbeat(const replica_id& from, const heartbeat& beat, time_point now) {
  effects out;
  auto seen = note_heartbeat(from, now, out);
  if (seen == sighting::stale) return out;
  if (beat.changes) {
    append(out.changes, local_.merge(*beat.changes));
    push_generation(*beat.changes);
  }
  pending_clocks_[from] = beat.clocks;
  if (seen == sighting::came_up) greet(from, out);
  return out;
}

// Phoenix's replica bookkeeping: one followed incarnation per node; a newer one retires the old.
replicator::sighting replicator::note_heartbeat(const replica_id& from, time_point now,
                                                effects& out) {
  auto found = peers_.find(from.node);
  if (found == peers_.end()) {
    peers_.emplace(from.node, peer{from, replica_status::up, now});
    bring_up(from, out);
    return sighting::came_up;
  }
  peer& p = found->second;
  if (p.replica != from) {
    if (!newer_vsn(from.vsn, p.replica.vsn)) return sighting::stale;  // a late older start
    if (!p.retired) retire(p.replica, out);
    p = peer{from, replica_status::up, now};
    bring_up(from, out);
    return sighting::came_up;
  }
  p.last_heartbeat = now;
  if (p.status == replica_status::up) return sighting::known;
  p.status = replica_status::up;
  bring_up(from, out);
  return sighting::came_up;
}

void replicator::bring_up(const replica_id& replica, effects& out) {
  if (auto joins = local_.replica_up(replica)) append(out.changes, std::move(*joins));
  out.events.push_back({replica_event::kind::up, replica});
}

// A replica that just came up may not know this one yet, and certainly lacks what it missed:
// a heartbeat lets it mark this replica up, a transfer request fetches what it has.
void replicator::greet(const replica_id& replica, effects& out) const {
  auto clocks = local_.clocks();
  out.messages.push_back({{replica.node}, heartbeat{std::nullopt, clocks}});
  out.messages.push_back({{replica.node}, transfer_request{std::move(clocks)}});
}

void replicator::retire(const replica_id& replica, effects& out) {
  if (local_.status(replica) == replica_status::up) {
    out.events.push_back({replica_event::kind::down, replica});
  }
  append(out.changes, local_.permdown(replica));
  out.events.push_back({replica_event::kind::permdown, replica});
  pending_clocks_.erase(replica);
  for (auto& g : generations_) drop_replica(g, replica);
}

// Nothing when the requester lacks nothing this replica has shipped: a heartbeat that crossed
// the request has filled the gap already.
effects replicator::on_transfer_request(const replica_id& from,
                                        const transfer_request& request) const {
  effects out;
  if (!lags(request.clocks, shipped_clocks())) return out;
  transfer answer;
  if (auto g = generation_for(request.clocks)) {
    answer.payload = std::move(*g);
  } else {
    answer.payload = local_.extract(from, request.clocks);
  }
  out.messages.push_back({{from.node}, std::move(answer)});
  return out;
}

effects replicator::on_transfer(const transfer& t) {
  effects out;
  if (const auto* d = std::get_if<delta>(&t.payload)) {
    out.changes = local_.merge(*d);
    push_generation(*d);
  } else {
    out.changes = local_.merge(std::get<snapshot>(t.payload));
    // The prefixes may have jumped past every generation's range: later deltas could not fold
    // into them, so start afresh (Phoenix does the same).
    generations_.clear();
  }
  return out;
}

// ---- replicator: delta generations --------------------------------------------------------

// Folds `d` into every generation (Phoenix's DeltaGeneration.push). A generation that would
// outgrow its cap takes the previous, smaller one's result instead; one that `d` does not touch
// stays as it is.
void replicator::push_generation(const delta& d) {
  const auto& caps = settings_.max_delta_sizes;
  if (generations_.empty()) {
    generations_.assign(caps.size(), d);
    return;
  }
  delta previous = d;
  for (std::size_t i = 0; i < caps.size(); ++i) {
    auto merged = merge_deltas(generations_[i], d);
    if (!merged) {
      previous = generations_[i];
    } else if (merged->size() <= caps[i]) {
      generations_[i] = *merged;
      previous = std::move(*merged);
    } else {
      generations_[i] = std::move(previous);
      previous = std::move(*merged);
    }
  }
}

std::optional<delta> replicator::generation_for(const clock_map& remote) const {
  auto target = shipped_clocks();
  for (const auto& g : generations_) {
    if (closes_gap(g, remote, target)) return g;
  }
  return std::nullopt;
}

// What peers may know of: the observed prefixes, with this replica's own clock as of its last
// heartbeat (the operations since reach peers with the next one).
clock_map replicator::shipped_clocks() const {
  auto clocks = local_.clocks();
  clocks[self()] = shipped_clock_;
  return clocks;
}

// ---- JSON ---------------------------------------------------------------------------------

std::string encode(const envelope& e) {
  json::object out;
  out["from"] = to_json(e.from);
  if (const auto* beat = std::get_if<heartbeat>(&e.message)) {
    out["type"] = "heartbeat";
    out["delta"] = beat->changes ? to_json(*beat->changes) : json::value(nullptr);
    out["clocks"] = to_json(beat->clocks);
  } else if (const auto* request = std::get_if<transfer_request>(&e.message)) {
    out["type"] = "transfer_request";
    out["clocks"] = to_json(request->clocks);
  } else {
    const auto& payload = std::get<transfer>(e.message).payload;
    out["type"] = "transfer";
    if (const auto* d = std::get_if<delta>(&payload)) {
      out["delta"] = to_json(*d);
    } else {
      out["snapshot"] = to_json(std::get<snapshot>(payload));
    }
  }
  return json::serialize(out);
}

namespace {

peer_message message_from_json(const json::value& v) {
  auto type = v.as_object().at("type").as_string();
  if (type == "heartbeat") {
    const auto& obj = object_with(v, {"from", "type", "delta", "clocks"});
    heartbeat beat;
    if (!obj.at("delta").is_null()) beat.changes = delta_from_json(obj.at("delta"));
    beat.clocks = clocks_from_json(obj.at("clocks"));
    return beat;
  }
  if (type == "transfer_request") {
    const auto& obj = object_with(v, {"from", "type", "clocks"});
    return transfer_request{clocks_from_json(obj.at("clocks"))};
  }
  if (type == "transfer") {
    if (v.as_object().contains("delta")) {
      return transfer{delta_from_json(object_with(v, {"from", "type", "delta"}).at("delta"))};
    }
    const auto& obj = object_with(v, {"from", "type", "snapshot"});
    return transfer{snapshot_from_json(obj.at("snapshot"))};
  }
  throw std::invalid_argument("unknown presence message type");
}

}  // namespace

std::optional<envelope> decode_envelope(std::string_view text) {
  return read_json(text, [](const json::value& v) {
    return envelope{replica_from_json(v.as_object().at("from")), message_from_json(v)};
  });
}

}  // namespace beryl::presence
