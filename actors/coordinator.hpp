#pragma once
// The registry of live sockets, never on the per-message path: every socket actor enrolls when
// it starts and the coordinator monitors it (one monitor per socket), so the table is exact.
// It answers disconnect by socket id, the number of connections from an address (admission
// caps) and the connection list the operator sees (GET /debug/connections).
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
    // (socket id) -> how many connections were told to close (1001)
    caf::replies_to<atoms::disconnect, std::string>::with<std::size_t>,
    // (limit) -> {"total", "by_address": {addr: n}, "connections": [...]}, at most `limit`
    // addresses and connections
    caf::replies_to<atoms::list, std::size_t>::with<boost::json::value>>;

coordinator_actor spawn_coordinator(caf::actor_system& sys);

}  // namespace beryl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::connection_entry)
