#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "supervision/child_spec.hpp"
#include "supervision/errors.hpp"
#include "supervision/messages.hpp"
#include "supervision/registry.hpp"

namespace beryl::supervision {

/// A supervisor for children started at run time (Elixir's DynamicSupervisor), e.g. one channel
/// actor per joined topic. Bookkeeping is O(1) per start and per exit, keyed by actor address.
///
/// Temporary children that end are counted (and logged if they crashed), never restarted.
/// Transient and permanent children are restarted one_for_one and count toward the restart
/// intensity. On shutdown, all children are stopped at once, each killed after its own graceful
/// timeout (there is no start order worth keeping among independent children).
///
/// Protocol (see messages.hpp): (start_child_atom, child_spec) -> caf::actor,
/// (crash_atom, caf::actor or its id) -> ok, (snapshot_atom) -> JSON, (ready_atom) -> ok. From an
/// actor:
///   self->request(dyn_sup, timeout, start_child_atom::value, spec)
///       .then([](const caf::actor& child) { ... }, [](caf::error& err) { ... });
struct dynamic_supervisor_flags {
  std::string name;
  std::size_t max_restarts = 3;
  caf::timespan within = std::chrono::seconds(5);
  /// start_child fails with max_children_reached beyond this many children; 0 means no limit.
  std::size_t max_children = 0;
  /// Children listed one by one in a snapshot; the counters always cover all of them.
  std::size_t snapshot_limit = 20;
};

/// Spawns a dynamic supervisor (it has no children yet, so there is nothing to wait for). Keep the
/// handle, and stop it like a supervisor.
caf::actor start_dynamic_supervisor(caf::actor_system& sys, dynamic_supervisor_flags flags);

/// A dynamic supervisor as the child of a supervisor (kind supervisor, shutdown infinity,
/// permanent), named flags.name.
child_spec dynamic_supervisor_spec(dynamic_supervisor_flags flags);

}  // namespace beryl::supervision
