#pragma once
// What a socket actor takes: the connection's decoded messages, in order, and the two ways to
// close it from the server (the coordinator's disconnect by id, and Phoenix's "disconnect"
// broadcast on the socket's id topic). The transport stops it with an exit reason instead.
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"

#include <caf/typed_actor.hpp>

#include <string>

namespace beryl {

using socket_actor = caf::typed_actor<
    // A client message, decoded by the transport (docs/protocol.md §4.2).
    caf::reacts_to<message>,
    // Close with 1001: the coordinator's disconnect by socket id.
    caf::reacts_to<atoms::disconnect>,
    // A broadcast on the socket's id topic; "disconnect" closes it, as in Phoenix.
    caf::reacts_to<atoms::out, std::string, payload>>;

}  // namespace beryl
