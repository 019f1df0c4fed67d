#pragma once
// Watching crashes and restarts over HTTP:
//   GET  /debug/supervision       the live supervision tree as JSON
//   POST /debug/crash?child=NAME  makes that child of the root supervisor crash, as a real crash
//                                 would (only with --enable-crash-injection; 404 otherwise);
//                                 &supervisor=NAME: a child of that registered supervisor, and
//                                 of a dynamic one (channels) by the id its snapshot shows
#include "actors/cluster.hpp"
#include "actors/coordinator.hpp"
#include "core/http.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <functional>
#include <string>

namespace beryl::app {

http_handler debug_routes(caf::actor_system& sys, std::function<caf::actor()> root,
                          bool crash_injection);

// GET /debug/connections?limit=N: the coordinator's registry of live sockets as JSON —
// {"total", "by_address": {address: count}, "connections": [{"id", "peer", "transport",
// "connected_at_ms"}, ...]} with at most N connections listed (default 100, at most 10,000).
http_handler connections_route(caf::actor_system& sys,
                               std::function<coordinator_actor()> coordinator);

// GET /debug/cluster: {"node": NAME, "peers": [{"node", "address", "status": "up" or "down",
// "last_heartbeat_ms"}]} as this node's cluster actor sees them (docs/cluster.md §6); no peers
// when not clustering, 503 while the cluster actor restarts.
http_handler cluster_route(caf::actor_system& sys, bool clustered, std::string node);

}  // namespace beryl::app
