#include "transport/connect.hpp"

#include "core/log_text.hpp"
#include "core/telemetry.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

namespace beryl {

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
  return spawn_socket(sys, std::move(info), deps);
}

}  // namespace beryl
