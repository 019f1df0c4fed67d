#include "actors/coordinator.hpp"

#include "core/http.hpp"
#include "core/log_text.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace json = boost::json;

namespace beryl {
namespace {

struct coordinator_state {
  // By actor id, whose hash std::unordered_map does not store (16 B less per socket).
  std::unordered_map<caf::actor_id, connection_entry> sockets;
  std::unordered_map<std::string, std::size_t> by_address;
  static inline const char* name = "coordinator";
};

using coordinator_self = coordinator_actor::stateful_pointer<coordinator_state>;

void enroll(coordinator_state& st, caf::actor_id socket, connection_entry entry) {
  ++st.by_address[std::string(peer_address(entry.info->peer))];
  st.sockets.emplace(socket, std::move(entry));
}

void forget(coordinator_state& st, caf::actor_id socket) {
  auto it = st.sockets.find(socket);
  if (it == st.sockets.end()) return;
  const auto& entry = it->second;
  auto count = st.by_address.find(std::string(peer_address(entry.info->peer)));
  if (count != st.by_address.end() && --count->second == 0) st.by_address.erase(count);
  st.sockets.erase(it);
}

json::object describe(const connection_entry& e) {
  const auto& info = *e.info;
  json::object out{
      {"peer", info.peer}, {"transport", info.transport}, {"connected_at_ms", e.connected_at_ms}};
  out["id"] = info.id ? json::value(*info.id) : json::value(nullptr);
  return out;
}

coordinator_actor::behavior_type coordinator_impl(coordinator_self self) {
  return {
      [=](atoms::enroll, socket_actor& socket, connection_entry& entry) -> void {
        enroll(self->state, socket->id(), std::move(entry));
      },
      [=](atoms::forget, caf::actor_id socket) -> void { forget(self->state, socket); },
      [=](atoms::list, std::size_t limit) -> json::value {
        const auto& st = self->state;
        json::array connections;
        for (const auto& [addr, entry] : st.sockets) {
          if (connections.size() >= limit) break;
          connections.push_back(describe(entry));
        }
        json::object by_address;
        for (const auto& [address, n] : st.by_address) {
          if (by_address.size() >= limit) break;  // the answer stays bounded, as the list does
          by_address[address] = n;
        }
        return json::object{{"total", st.sockets.size()},
                            {"by_address", std::move(by_address)},
                            {"connections", std::move(connections)}};
      },
  };
}

}  // namespace

coordinator_actor spawn_coordinator(caf::actor_system& sys) {
  return sys.spawn(coordinator_impl);
}

}  // namespace beryl
