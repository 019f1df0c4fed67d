#pragma once

#include <cstdint>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

namespace beryl::supervision {

/// Error codes of the supervision library (category `supervision_category`).
enum class supervision_errc : std::uint8_t {
  none = 0,
  /// A child's start function threw or returned an invalid handle.
  start_failed = 1,
  /// More than max_restarts restarts within the window: the supervisor gave up.
  restart_intensity_exceeded = 2,
  /// No child with that name (or handle) under this supervisor.
  no_such_child = 3,
  /// The supervisor (or the child) is starting or shutting down.
  not_running = 4,
  /// A dynamic supervisor already has max_children children.
  max_children_reached = 5,
  /// start_supervisor() gave up waiting for the tree to start.
  start_timeout = 6,
};

constexpr caf::atom_value supervision_category = caf::atom("supervisor");

const char* to_string(supervision_errc code);

/// Found by ADL, so `err == supervision_errc::no_such_child` works.
caf::error make_error(supervision_errc code, std::string context = {});

/// The exit reason of a crash injected with crash_atom: the same reason an exception in a handler
/// produces, so the child goes through exactly the path of a real crash.
caf::error injected_crash();

/// Lets `sys.render(err)` print supervision errors readably, e.g.
/// "supervision_error(restart_intensity_exceeded: supervisor 'root' gave up ...)".
void add_error_category(caf::actor_system_config& cfg);

}  // namespace beryl::supervision
