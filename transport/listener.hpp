#pragma once
// The listener actor: it owns the acceptor and every connection accepted through it, so a
// supervisor can restart the transport. Its exit closes all connections: with 1001 when the exit
// reason is user_shutdown (the server is stopping), with 1012 otherwise (the tree restarts), and
// phoenix.js reconnects either way.
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"
#include "actors/socket_deps.hpp"
#include "transport/io_runtime.hpp"
#include "transport/server_hooks.hpp"
#include "transport/settings.hpp"

#include <boost/json/value.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

namespace beryl {

using listener_actor = caf::typed_actor<
    // -> {"port", "connections", "accepted"}
    caf::replies_to<atoms::stats>::with<boost::json::value>,
    // (batch) -> connections and long-poll sessions still open and not yet closing. The first
    // drain makes the listener refuse new connections (503); each closes up to `batch` WebSocket
    // connections with 1012, then long-poll sessions within what is left of the batch, and stops
    // their socket actors with `shutdown` (Phoenix's drainer, one batch per call).
    caf::replies_to<atoms::drain, std::uint64_t>::with<std::uint64_t>>;

struct listener_handle {
  listener_actor actor;
  std::uint16_t port;  // the bound port (settings.port 0 picks one)
};

// Binds `settings.host:port` (throws std::system_error when it cannot) and spawns the actor.
listener_handle spawn_listener(caf::actor_system& sys, io_runtime& io, transport_settings settings,
                               server_hooks hooks, std::shared_ptr<const socket_deps> deps);

}  // namespace beryl
