#include "supervision/child_ops.hpp"

#include "core/log_metadata.hpp"

#include <chrono>
#include <exception>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/message_view.hpp"
#include "caf/send.hpp"

#include "core/telemetry.hpp"
#include "supervision/errors.hpp"
#include "supervision/registry.hpp"

namespace beryl::supervision::detail {

namespace {

caf::error start_error(const child_spec& spec, const std::string& what) {
  return make_error(supervision_errc::start_failed,
                    "child '" + spec.name + "' failed to start: " + what);
}

}  // namespace

caf::expected<caf::actor> start_and_monitor(caf::event_based_actor* self, const child_spec& spec) {
  if (!spec.start) return start_error(spec, "no start function");
  caf::actor child;
  try {
    child = spec.start(self);
  } catch (const std::exception& e) {
    return start_error(spec, e.what());
  } catch (...) {
    return start_error(spec, "unknown exception");
  }
  if (!child) return start_error(spec, "start function returned an invalid handle");
  // If the child has already died, the down_msg comes right away, so a crash during startup
  // takes the ordinary crash path.
  self->monitor(child);
  if (spec.registered) register_name(self->system(), spec.name, child);
  return child;
}

void send_shutdown(caf::event_based_actor* self, const caf::actor& child,
                   const shutdown_policy& policy) {
  self->send_exit(
      child, policy.is_brutal_kill() ? caf::exit_reason::kill : caf::exit_reason::user_shutdown);
}

void kill_orphan(const caf::actor& child) {
  caf::anon_send_exit(child, caf::exit_reason::kill);
}

namespace {

void report(telemetry::event e, caf::actor_system& sys, const std::string& supervisor_name,
            const std::string& child_name, const caf::error& reason, const char* action) {
  if (!telemetry::attached(e)) return;
  auto why = reason ? describe(sys, reason) : std::string("normal");  // a permanent child's restart
  telemetry::metadata meta;
  meta.supervisor = supervisor_name;
  meta.child = child_name;
  meta.reason = why;
  meta.action = action;
  telemetry::execute(e, {}, meta);
}

}  // namespace

void report_crash(caf::actor_system& sys, const std::string& supervisor_name,
                  const std::string& child_name, const caf::error& reason, const char* action) {
  if (is_abnormal(reason))
    report(telemetry::event::crash, sys, supervisor_name, child_name, reason, action);
}

void report_restart(caf::actor_system& sys, const std::string& supervisor_name,
                    const std::string& child_name, const caf::error& reason, const char* action) {
  report(telemetry::event::restart, sys, supervisor_name, child_name, reason, action);
}

std::string describe(caf::actor_system& sys, const caf::error& err) {
  if (err.category() == supervision_category && err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  return sys.render(err);
}

caf::error give_up(caf::actor_system& sys, const char* kind, const std::string& supervisor_name,
                   std::size_t max_restarts, caf::timespan within, const std::string& child_name,
                   const caf::error& reason) {
  auto err = make_error(supervision_errc::restart_intensity_exceeded,
                        fmt::format("{} '{}' gave up: more than {} restarts within {} ms (last: "
                                    "child '{}' exited with {})",
                                    kind, supervisor_name, max_restarts, to_millis(within),
                                    child_name, sys.render(reason)));
  log_metadata_scope about(log_child(child_name));
  spdlog::error("{}", describe(sys, err));
  return err;
}

long long to_millis(caf::timespan span) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(span).count();
}

void install_fallback_handlers(caf::event_based_actor* self, const std::string& supervisor_name) {
  self->set_default_handler(
      [supervisor_name](caf::scheduled_actor*,
                        caf::message_view& view) -> caf::result<caf::message> {
        spdlog::warn("supervisor '{}': dropped unexpected message {}", supervisor_name,
                     caf::to_string(view.copy_content_to_message()));
        return caf::message{};
      });
  self->set_error_handler([self, supervisor_name](caf::error& err) {
    spdlog::warn("supervisor '{}': received error {}", supervisor_name, self->system().render(err));
  });
}

}  // namespace beryl::supervision::detail
