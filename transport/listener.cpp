#include "transport/listener.hpp"

#include "actors/atoms.hpp"
#include "transport/beast_listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>
#include <caf/all.hpp>

namespace beryl {
namespace {

void stop_core(beast_listener& core, const caf::error& reason) {
  bool graceful = reason == caf::exit_reason::user_shutdown || reason == caf::exit_reason::normal;
  core.stop(graceful ? make_error(stop_code::shutdown) : reason,
            graceful ? close_code::going_away : close_code::service_restart);
}

listener_actor::behavior_type listener_behavior(listener_actor::pointer self,
                                                std::shared_ptr<beast_listener> core) {
  // Close the acceptor before quitting, so our supervisor only learns that we are gone (and
  // starts a new listener on the same port) once the port is free.
  self->set_exit_handler([self, core](caf::exit_msg& em) {
    stop_core(*core, em.reason);
    self->quit(em.reason);
  });
  self->attach_functor(
      [core](const caf::error& reason) { stop_core(*core, reason); });  // after a kill
  return {
      [core](atoms::drain, std::uint64_t batch) -> std::uint64_t { return core->drain(batch); },
      [core](atoms::stats) -> boost::json::value {
        return boost::json::object{{"port", core->port()},
                                   {"connections", core->connections()},
                                   {"accepted", core->accepted()}};
      },
  };
}

}  // namespace

listener_handle spawn_listener(caf::actor_system& sys, io_runtime& io, transport_settings settings,
                               server_hooks hooks, std::shared_ptr<const socket_deps> deps) {
  auto core = make_beast_listener(sys, io, std::move(settings), std::move(hooks), std::move(deps));
  auto port = core->port();
  return {sys.spawn(listener_behavior, std::move(core)), port};
}

}  // namespace beryl
