#pragma once
// Watching crashes and restarts over HTTP:
//   GET  /debug/supervision       the live supervision tree as JSON
//   POST /debug/crash?child=NAME  makes that child of the root supervisor crash, as a real crash
//                                 would (only with --enable-crash-injection; 404 otherwise)
#include "core/http.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <functional>

namespace beryl::app {

http_handler debug_routes(caf::actor_system& sys, std::function<caf::actor()> root,
                          bool crash_injection);

}  // namespace beryl::app
