#pragma once
// The listener actor: it owns the acceptor and every connection accepted through it, so a
// supervisor can restart the transport. Its exit closes all connections: with 1001 when the exit
// reason is user_shutdown (the server is stopping), with 1012 otherwise (the tree restarts), and
// phoenix.js reconnects either way.
#include "actors/socket_deps.hpp"
#include "transport/io_runtime.hpp"
#include "transport/server_hooks.hpp"
#include "transport/settings.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace beryl {

struct listener_handle {
  caf::actor actor;
  std::uint16_t port;  // the bound port (settings.port 0 picks one)
};

// Binds `settings.host:port` (throws std::system_error when it cannot) and spawns the actor.
// Messages: (atoms::stats) -> JSON text {"port", "connections", "accepted"}.
listener_handle spawn_listener(caf::actor_system& sys, io_runtime& io, transport_settings settings,
                               server_hooks hooks, std::shared_ptr<const socket_deps> deps);

}  // namespace beryl
