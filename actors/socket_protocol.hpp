#pragma once
// What a socket actor takes: the connection's decoded messages, in order, and the broadcasts on
// its id topic, where Phoenix's "disconnect" closes it from the server, on any node of the
// cluster. The transport stops it with an exit reason instead.
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace beryl {

using socket_actor = caf::typed_actor<
    // A client message, decoded by the transport (docs/protocol.md §4.2).
    caf::reacts_to<message>,
    // A broadcast on the socket's id topic; "disconnect" closes it, as in Phoenix.
    caf::reacts_to<atoms::out, std::string, payload>,
    // One of its channels ended, with this reason (sent by the channel as it ends, however it
    // ends): the client gets phx_close or phx_error for its topic.
    caf::reacts_to<atoms::ended, caf::actor_addr, caf::error>>;

}  // namespace beryl
