#pragma once
// Message atoms between the server's actors (CAF 0.17 atoms: at most 10 characters).
#include <caf/atom.hpp>

namespace beryl::atoms {

using join = caf::atom_constant<caf::atom("join")>;    // socket -> channel: run join
using in = caf::atom_constant<caf::atom("in")>;        // socket -> channel: handle_in
using out = caf::atom_constant<caf::atom("out")>;      // shard -> channel: intercepted event
using leave = caf::atom_constant<caf::atom("leave")>;  // socket -> channel: phx_leave
using stop = caf::atom_constant<caf::atom("stop")>;    // socket -> channel: replaced by a new join
using subscribe = caf::atom_constant<caf::atom("subscribe")>;  // channel -> shard
using unsubscribe = caf::atom_constant<caf::atom("unsub")>;    // channel -> shard
using broadcast = caf::atom_constant<caf::atom("broadcast")>;  // anyone -> shard
using disconnect = caf::atom_constant<caf::atom("disconnect")>;
using enroll = caf::atom_constant<caf::atom("enroll")>;  // socket -> coordinator: socket table
using stats = caf::atom_constant<caf::atom("stats")>;
using shards = caf::atom_constant<caf::atom("shards")>;

}  // namespace beryl::atoms
