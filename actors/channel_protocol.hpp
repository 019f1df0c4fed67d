#pragma once
// The framework side of a channel: what the socket and the pubsub send a channel actor. User
// channels (actors/channel.hpp) implement it in their base class and add their own handlers
// (handle_info) beside it; the framework only ever holds these typed handles, so a message the
// protocol does not have fails to compile.
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"

#include <caf/error.hpp>
#include <caf/timestamp.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace beryl {

// Anything that takes broadcasts one by one (handle_out): an intercepting channel, or a socket
// following its id topic.
using event_receiver = caf::typed_actor<caf::reacts_to<atoms::out, std::string, payload>>;

using channel_actor = caf::typed_actor<
    // phx_join with its deadline: runs join(); true once joined (the reply is on the wire),
    // false when refused, an error when join() threw, or returned after the deadline.
    caf::replies_to<atoms::join, message, caf::timestamp>::with<bool>,
    // A client event for handle_in, in the order the client sent it.
    caf::reacts_to<atoms::in, message>,
    // phx_leave: replies ok and ends with reason `left`.
    caf::reacts_to<atoms::leave, message>,
    // Replaced by a duplicate join: terminate with `reason`, answer once done, then end.
    caf::replies_to<atoms::stop, caf::error>::with<bool>,
    // An intercepted broadcast, for handle_out.
    caf::reacts_to<atoms::out, std::string, payload>>;

}  // namespace beryl
