#include "transport/listener.hpp"

#include "actors/atoms.hpp"
#include "transport/listener_core.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <caf/all.hpp>

namespace beryl {
namespace {

caf::behavior listener_actor(caf::event_based_actor* self, std::shared_ptr<listener_core> core) {
  self->attach_functor([core](const caf::error& reason) {
    bool graceful = reason == caf::exit_reason::user_shutdown || reason == caf::exit_reason::normal;
    core->stop(graceful ? make_error(stop_code::shutdown) : reason,
               graceful ? close_code::going_away : close_code::service_restart);
  });
  return {
      [core](atoms::stats) {
        return boost::json::serialize(boost::json::object{{"port", core->port()},
                                                          {"connections", core->connections()},
                                                          {"accepted", core->accepted()}});
      },
  };
}

}  // namespace

caf::actor spawn_listener(caf::actor_system& sys, io_runtime& io, transport_settings settings,
                          server_hooks hooks, std::shared_ptr<const socket_deps> deps) {
  auto core = make_listener_core(sys, io, std::move(settings), std::move(hooks), std::move(deps));
  return sys.spawn(listener_actor, std::move(core));
}

}  // namespace beryl
