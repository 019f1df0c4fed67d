#include "actors/coordinator.hpp"

#include "actors/atoms.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <caf/all.hpp>

#include <unordered_map>

namespace beryl {
namespace {

struct coordinator_state {
  std::shared_ptr<const router> routes;
  std::unordered_map<std::string, std::vector<caf::actor>> sockets_by_id;
  std::unordered_map<caf::actor_addr, std::string> id_of;
  static inline const char* name = "coordinator";
};

void forget(coordinator_state& st, const caf::actor_addr& socket) {
  auto it = st.id_of.find(socket);
  if (it == st.id_of.end()) return;
  auto& sockets = st.sockets_by_id[it->second];
  sockets.erase(std::remove_if(sockets.begin(), sockets.end(),
                               [&](const caf::actor& a) { return a.address() == socket; }),
                sockets.end());
  if (sockets.empty()) st.sockets_by_id.erase(it->second);
  st.id_of.erase(it);
}

caf::behavior coordinator_impl(caf::stateful_actor<coordinator_state>* self,
                               std::shared_ptr<const router> routes) {
  self->state.routes = std::move(routes);
  self->set_down_handler([=](caf::down_msg& dm) { forget(self->state, dm.source); });
  return {
      [=](atoms::enroll, const std::string& id, const caf::actor& socket) {
        self->monitor(socket);
        self->state.sockets_by_id[id].push_back(socket);
        self->state.id_of[socket.address()] = id;
      },
      [=](atoms::disconnect, const std::string& id) -> std::size_t {
        auto it = self->state.sockets_by_id.find(id);
        if (it == self->state.sockets_by_id.end()) return 0;
        spdlog::info("disconnecting {} connection(s) of socket id {}", it->second.size(), id);
        for (const auto& socket : it->second) self->send(socket, atoms::disconnect::value);
        return it->second.size();
      },
      [=](atoms::stats) {
        boost::json::array patterns;
        for (auto& p : self->state.routes->patterns()) patterns.emplace_back(p);
        return boost::json::serialize(boost::json::object{
            {"sockets_with_id", self->state.id_of.size()}, {"patterns", std::move(patterns)}});
      },
  };
}

}  // namespace

caf::actor spawn_coordinator(caf::actor_system& sys, std::shared_ptr<const router> routes) {
  return sys.spawn(coordinator_impl, std::move(routes));
}

}  // namespace beryl
