#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "supervision/child_spec.hpp"
#include "supervision/errors.hpp"
#include "supervision/messages.hpp"
#include "supervision/registry.hpp"

namespace beryl::supervision {

/// Which children a supervisor restarts when one of them has to be restarted.
enum class restart_strategy : std::uint8_t {
  one_for_one,   ///< only that child
  one_for_all,   ///< all children: the others are stopped (reverse order), then all start again
  rest_for_one,  ///< that child and the ones started after it
};

const char* to_string(restart_strategy strategy);

struct supervisor_flags {
  /// Shown in logs and snapshots.
  std::string name;
  restart_strategy strategy = restart_strategy::one_for_one;
  /// More than `max_restarts` restarts within `within` make the supervisor stop all its children
  /// and exit with supervision_errc::restart_intensity_exceeded, which its own supervisor sees as
  /// a crash.
  std::size_t max_restarts = 3;
  caf::timespan within = std::chrono::seconds(5);
};

/// Spawns a supervisor and waits (blocking the calling thread; never call it from an actor) until
/// all children have started in order. If a child fails to start, the ones already started are
/// stopped in reverse order and the error names the child. Keep the returned handle: like any CAF
/// actor, the supervisor exits once no handle to it is left. Stop it with stop_supervisor() or
/// `anon_send_exit(sup, caf::exit_reason::user_shutdown)`; it stops its children in reverse order.
caf::expected<caf::actor> start_supervisor(caf::actor_system& sys, supervisor_flags flags,
                                           std::vector<child_spec> children,
                                           caf::timespan timeout = std::chrono::seconds(30));

/// A child supervisor (kind supervisor, shutdown infinity, permanent), named flags.name. Its
/// parent waits until it has started all its children before starting the next sibling.
child_spec supervisor_spec(supervisor_flags flags, std::vector<child_spec> children);

}  // namespace beryl::supervision
