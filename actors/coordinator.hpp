#pragma once
// The control plane, never on the per-message path: the pattern registry, the table of sockets
// by id, and "disconnect every connection of this id" (Phoenix's socket id disconnect).
#include "actors/router.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace beryl {

// Messages:
//   (atoms::enroll, id, socket)  a socket with an id joins the table (removed when it ends)
//   (atoms::disconnect, id)      -> number of sockets told to disconnect (close 1001)
//   (atoms::stats)               -> JSON text {"sockets_with_id": N, "patterns": [...]}
caf::actor spawn_coordinator(caf::actor_system& sys, std::shared_ptr<const router> routes);

}  // namespace beryl
