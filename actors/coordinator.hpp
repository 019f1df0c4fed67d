#pragma once
// The registry of live sockets, never on the per-message path: every socket actor enrolls when
// it starts and is forgotten when it ends, however it ends (the socket's state tells the
// coordinator as CAF destroys it: actors/socket.cpp), so the table is exact.
// It answers the number of connections from an address (admission caps) and the connection list
// the operator sees (GET /debug/connections). Disconnect by socket id is a broadcast on the id's
// topic, as in Phoenix (app::endpoint::disconnect), so that it reaches every node.
#include "actors/atoms.hpp"
#include "actors/context.hpp"
#include "actors/message_types.hpp"
#include "actors/socket_protocol.hpp"

#include <boost/json/value.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace beryl {

// What the registry keeps of one connection: the socket's own shared info (id, peer,
// transport), not copies of it.
struct connection_entry {
  std::shared_ptr<const socket_info> info;
  std::int64_t connected_at_ms = 0;  // Unix time
};

using coordinator_actor = caf::typed_actor<
    // A socket starting: registered until it ends.
    caf::reacts_to<atoms::enroll, socket_actor, connection_entry>,
    // A socket that ended: its actor id.
    caf::reacts_to<atoms::forget, caf::actor_id>,
    // (limit) -> {"total", "by_address": {addr: n}, "connections": [...]}, at most `limit`
    // addresses and connections
    caf::replies_to<atoms::list, std::size_t>::with<boost::json::value>>;

coordinator_actor spawn_coordinator(caf::actor_system& sys);

}  // namespace beryl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::connection_entry)
