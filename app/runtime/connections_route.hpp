#pragma once
// GET /debug/connections?limit=N: the coordinator's registry of live sockets as JSON —
// {"total", "by_address": {address: count}, "connections": [{"id", "peer", "transport",
// "connected_at_ms"}, ...]} with at most N connections listed (default 100, at most 10,000).
#include "actors/coordinator.hpp"
#include "core/http.hpp"

#include <caf/actor_system.hpp>

#include <functional>

namespace beryl::app {

http_handler connections_route(caf::actor_system& sys,
                               std::function<coordinator_actor()> coordinator);

}  // namespace beryl::app
