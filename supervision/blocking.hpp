#pragma once

#include <chrono>
#include <string>

#include <boost/json/value.hpp>

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "supervision/child_spec.hpp"

// Blocking helpers for code outside actors: main(), tests, an admin thread. Each one waits on a
// scoped_actor, so never call them from inside an actor; actors send the messages of
// messages.hpp with request(...).then(...) instead.
namespace beryl::supervision {

/// Asks a dynamic supervisor to start `spec`; the new child, or why it could not start.
caf::expected<caf::actor> start_child(caf::actor_system& sys, const caf::actor& dyn_sup,
                                      child_spec spec,
                                      caf::timespan timeout = std::chrono::seconds(5));

/// The snapshot of the tree below `sup` (a supervisor or a dynamic supervisor): a JSON object.
caf::expected<boost::json::value> snapshot(caf::actor_system& sys, const caf::actor& sup,
                                           caf::timespan timeout = std::chrono::seconds(5));

/// Makes the named child of `sup` crash (see crash_atom). An empty error means it was sent.
caf::error inject_crash(caf::actor_system& sys, const caf::actor& sup,
                        const std::string& child_name,
                        caf::timespan timeout = std::chrono::seconds(5));

/// Sends user_shutdown to `sup` and waits until it has stopped its children and exited. After
/// `timeout` it is killed (a killed supervisor kills its remaining children). Returns false
/// if the orderly shutdown did not finish in time.
bool stop_supervisor(caf::actor_system& sys, const caf::actor& sup,
                     caf::timespan timeout = std::chrono::seconds(30));

}  // namespace beryl::supervision
