#pragma once
// One actor per connection, whatever the transport: it takes the connection's decoded messages
// in order and runs Phoenix's per-connection state machine (docs/protocol.md §4): heartbeats, joins
// (routing, channel limit, duplicate joins), leaves, stale join_refs, and phx_close/phx_error
// when a channel ends. The transport stops it with an exit reason (e.g. stop_code::closed).
#include "actors/context.hpp"
#include "actors/socket_deps.hpp"
#include "actors/socket_protocol.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace beryl {

socket_actor spawn_socket(caf::actor_system& sys, std::shared_ptr<const socket_info> info,
                          std::shared_ptr<const socket_deps> deps);

}  // namespace beryl
