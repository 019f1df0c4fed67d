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
using track = caf::atom_constant<caf::atom("track")>;      // -> presence
using untrack = caf::atom_constant<caf::atom("untrack")>;  // -> presence
using update = caf::atom_constant<caf::atom("update")>;    // -> presence
using list = caf::atom_constant<caf::atom("list")>;        // -> presence
using merge = caf::atom_constant<caf::atom("merge")>;      // peer delta -> presence
using flush = caf::atom_constant<caf::atom("flush")>;      // presence's own timers
using tick = caf::atom_constant<caf::atom("tick")>;
using shards = caf::atom_constant<caf::atom("shards")>;

}  // namespace beryl::atoms
