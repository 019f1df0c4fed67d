#include "transport/connect.hpp"

#include "actors/stop_reason.hpp"
#include "core/log_text.hpp"
#include "core/telemetry.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

namespace beryl {
namespace {

// The close code a connection gets when its socket actor ends first.
std::uint16_t close_code_for(const caf::error& reason) {
  if (stop_reason::from(reason).code == stop_code::crashed) return close_code::internal_error;
  return close_code::going_away;
}

}  // namespace

connect_result run_on_connect(const connect_handler& on_connect, const connect_info& info) {
  auto started = std::chrono::steady_clock::now();
  auto result = connect_result::accept();
  if (on_connect) {
    try {
      result = on_connect(info);
    } catch (const std::exception& e) {
      // The hook's exception may quote the connect params.
      spdlog::error("on_connect threw: {}", log_text(e.what()));
      result = connect_result::refuse();
    }
  }
  if (telemetry::attached(telemetry::event::connect)) {
    telemetry::metadata meta;
    meta.transport = info.transport;
    meta.remote_address = info.peer;
    if (result.id) meta.socket_id = *result.id;
    meta.result = result.accepted ? "ok" : "error";
    telemetry::execute(telemetry::event::connect, {std::chrono::steady_clock::now() - started, 0},
                       meta);
  }
  return result;
}

socket_actor start_socket(caf::actor_system& sys, const std::shared_ptr<outbox>& out,
                          const serializer* format, connect_result accepted,
                          const connect_info& connect,
                          const std::shared_ptr<const socket_deps>& deps) {
  auto info = std::make_shared<socket_info>();
  info->out = out;
  info->format = format;
  info->id = std::move(accepted.id);
  info->assigns = std::move(accepted.assigns);
  info->transport = connect.transport;
  info->peer = connect.peer;
  auto actor = spawn_socket(sys, std::move(info), deps);
  std::weak_ptr<outbox> weak = out;
  actor->attach_functor([weak](const caf::error& reason) {
    if (auto connection = weak.lock()) connection->close(close_code_for(reason), "");
  });
  return actor;
}

}  // namespace beryl
