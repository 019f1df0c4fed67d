#pragma once
// The atoms of the actors' protocols (CAF 0.17 atoms: at most 10 characters). What each message
// means is in the typed interface that uses it: channel_protocol.hpp, socket_protocol.hpp,
// pubsub.hpp, presence.hpp, coordinator.hpp, cluster.hpp and transport/listener.hpp. Atoms cross
// nodes by value, so a cluster message's atoms must never change.
#include <caf/atom.hpp>

namespace beryl::atoms {

using join = caf::atom_constant<caf::atom("join")>;
using in = caf::atom_constant<caf::atom("in")>;
using out = caf::atom_constant<caf::atom("out")>;
using leave = caf::atom_constant<caf::atom("leave")>;
using stop = caf::atom_constant<caf::atom("stop")>;
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe = caf::atom_constant<caf::atom("unsub")>;
using broadcast = caf::atom_constant<caf::atom("broadcast")>;
using disconnect = caf::atom_constant<caf::atom("disconnect")>;
using enroll = caf::atom_constant<caf::atom("enroll")>;
using forget = caf::atom_constant<caf::atom("forget")>;
using ended = caf::atom_constant<caf::atom("ended")>;
using stats = caf::atom_constant<caf::atom("stats")>;
using drain = caf::atom_constant<caf::atom("drain")>;
using track = caf::atom_constant<caf::atom("track")>;
using untrack = caf::atom_constant<caf::atom("untrack")>;
using update = caf::atom_constant<caf::atom("update")>;
using list = caf::atom_constant<caf::atom("list")>;
using flush = caf::atom_constant<caf::atom("flush")>;
using presence = caf::atom_constant<caf::atom("presence")>;
using state = caf::atom_constant<caf::atom("state")>;
using mailbox = caf::atom_constant<caf::atom("mailbox")>;
using forward = caf::atom_constant<caf::atom("forward")>;
using cluster = caf::atom_constant<caf::atom("cluster")>;
using hello = caf::atom_constant<caf::atom("hello")>;
using prove = caf::atom_constant<caf::atom("prove")>;
using heartbeat = caf::atom_constant<caf::atom("heartbeat")>;
using peer = caf::atom_constant<caf::atom("peer")>;
using tick = caf::atom_constant<caf::atom("tick")>;
using replicate = caf::atom_constant<caf::atom("replicate")>;

}  // namespace beryl::atoms
