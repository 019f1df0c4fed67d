#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

namespace beryl::supervision {

/// Whether a child that ended is started again.
enum class restart_type : std::uint8_t {
  permanent,  ///< always, even after a normal exit
  transient,  ///< only after an abnormal exit (anything but normal and user_shutdown)
  temporary,  ///< never
};

/// A child of kind supervisor must speak this library's protocol (messages.hpp): build its spec
/// with supervisor_spec() or dynamic_supervisor_spec(). Its parent waits for it to be ready before
/// starting the next child, and includes its subtree in snapshots.
enum class child_kind : std::uint8_t { worker, supervisor };

/// How a supervisor stops one of its children.
class shutdown_policy {
 public:
  /// Sends exit_reason::kill at once.
  static shutdown_policy brutal_kill() { return {mode::brutal_kill, caf::timespan{0}}; }

  /// Sends exit_reason::user_shutdown, waits up to `timeout` for the child to end, then kills it.
  static shutdown_policy graceful(caf::timespan timeout) { return {mode::graceful, timeout}; }

  /// Sends exit_reason::user_shutdown and waits as long as it takes. Meant for child supervisors,
  /// which stop their own children (each with its own timeout) before they exit.
  static shutdown_policy infinity() { return {mode::infinity, caf::timespan{0}}; }

  bool is_brutal_kill() const noexcept { return mode_ == mode::brutal_kill; }
  bool is_infinity() const noexcept { return mode_ == mode::infinity; }
  /// Only meaningful for graceful().
  caf::timespan timeout() const noexcept { return timeout_; }

 private:
  enum class mode : std::uint8_t { brutal_kill, graceful, infinity };
  shutdown_policy(mode m, caf::timespan t) : mode_(m), timeout_(t) {}
  mode mode_;
  caf::timespan timeout_;
};

/// Spawns one incarnation of a child. `parent` is the supervisor; spawn with it
/// (`parent->spawn(fn, ...)`) and do not link (the supervisor monitors the child; a link would let
/// a kill of the child kill the supervisor too). Throwing or returning an invalid handle means the
/// start failed.
using start_function = std::function<caf::actor(caf::local_actor* parent)>;

struct child_spec {
  /// Unique among the children of one supervisor; used in logs, snapshots and crash injection.
  std::string name;
  start_function start;
  restart_type restart = restart_type::permanent;
  shutdown_policy shutdown = shutdown_policy::graceful(std::chrono::seconds(5));
  child_kind kind = child_kind::worker;
  /// When set, lookup(sys, name) returns the current incarnation of this child (names must then be
  /// unique in the actor_system).
  bool registered = false;
};

/// A worker with a 5 s graceful shutdown.
child_spec worker_spec(std::string name, start_function start,
                       restart_type restart = restart_type::permanent);

/// False for a normal exit and for exit_reason::user_shutdown (an orderly stop); true otherwise.
bool is_abnormal(const caf::error& reason);

bool should_restart(restart_type restart, const caf::error& reason);

const char* to_string(restart_type restart);
const char* to_string(child_kind kind);

}  // namespace beryl::supervision

// Specs travel inside local messages (start_child_atom); they hold a std::function, so they can
// never be serialized, which is fine because supervisors only talk to local actors.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::supervision::child_spec)
