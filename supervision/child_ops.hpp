#pragma once

#include <cstddef>
#include <string>

#include "caf/actor.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "supervision/child_spec.hpp"

// Steps shared by supervisor and dynamic_supervisor. Internal to the library.
namespace beryl::supervision::detail {

/// Runs spec.start from `self`, monitors the new child and registers its name if the spec asks
/// for it. Never throws: a start that throws or returns an invalid handle becomes a
/// supervision_errc::start_failed error naming the child.
///
/// Why a monitor and not a link: in CAF 0.17 an exit with reason `kill` travels through links and
/// cannot be trapped, so killing a linked child (brutal_kill, or after a shutdown timeout) would
/// kill its supervisor as well; and the receiver of an exit_msg drops its link to the sender. The
/// other half of a link, "the children die with their supervisor", is done by
/// kill_remaining_children() in the supervisors' on_exit().
caf::expected<caf::actor> start_and_monitor(caf::event_based_actor* self, const child_spec& spec);

/// The first step of stopping a child: user_shutdown, or kill for brutal_kill. The caller waits
/// for the child's down_msg and kills it when the graceful timeout expires.
void send_shutdown(caf::event_based_actor* self, const caf::actor& child,
                   const shutdown_policy& policy);

/// Kills a child still running when its supervisor terminates (only when the supervisor itself
/// was killed: an orderly exit stops every child first), so no child outlives its supervisor.
void kill_orphan(const caf::actor& child);

/// The text of a supervision error (its context string), sys.render(err) for any other error.
std::string describe(caf::actor_system& sys, const caf::error& err);

/// Restart intensity exceeded: logs why the supervisor gives up and returns that reason
/// (supervision_errc::restart_intensity_exceeded), which the caller shuts down with. `kind` is
/// "supervisor" or "dynamic supervisor", as the log lines of each call it.
[[nodiscard]] caf::error give_up(caf::actor_system& sys, const char* kind,
                                 const std::string& supervisor_name, std::size_t max_restarts,
                                 caf::timespan within, const std::string& child_name,
                                 const caf::error& reason);

/// Tells telemetry (core/telemetry.hpp) that a child ended abnormally and what its supervisor
/// does about it (`action`: "restart", "none" or "give up"); nothing for a normal exit.
void report_crash(caf::actor_system& sys, const std::string& supervisor_name,
                  const std::string& child_name, const caf::error& reason, const char* action);

/// Tells telemetry that a child was restarted after `reason` (`action`: "restarted" or "restart
/// failed").
void report_restart(caf::actor_system& sys, const std::string& supervisor_name,
                    const std::string& child_name, const caf::error& reason, const char* action);

/// Milliseconds, for log lines and snapshots.
long long to_millis(caf::timespan span);

/// Supervisors must not die because someone sent them something odd: unknown messages are
/// logged and dropped (a requester gets an empty reply instead of an error that would kill it),
/// and error messages are logged.
void install_fallback_handlers(caf::event_based_actor* self, const std::string& supervisor_name);

}  // namespace beryl::supervision::detail
