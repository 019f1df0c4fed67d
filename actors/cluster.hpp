#pragma once
// The cluster: this node's link to the other nodes, on CAF's middleman as Phoenix's is on Erlang
// distribution (docs/cluster.md). One cluster actor per node keeps the membership
// (core/cluster/membership.hpp): it dials the seeds and the addresses peers advertise, admits
// peers through the handshake of core/cluster/auth.hpp, heartbeats them, and sees them down when
// silent or disconnected. A broadcast made here goes to every up peer as one message per node,
// which that node's pubsub delivers to its own subscribers; presence shards replicate with their
// peers through it.
//
// What a remote node can reach: the published gate, which answers only the handshake, and, once
// admitted, this actor's peer protocol. Every message is checked against its sender's node:
// peer messages from admitted nodes only, local messages from this node only.
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "core/cluster/membership.hpp"

#include <boost/json/value.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace beryl {

struct cluster_settings {
  std::string node;  // --node: unique in the cluster
  std::string secret;
  std::string bind = "127.0.0.1";  // --cluster-bind
  std::uint16_t port = 0;          // --cluster-port
  std::string advertise;           // --cluster-advertise HOST:PORT, when not bind:port
  std::vector<std::string> seeds;  // --peers, HOST:PORT each
  cluster::membership_settings membership;

  // What this node tells its peers to dial: --cluster-advertise, or --cluster-bind:--cluster-port.
  std::string address() const {
    return advertise.empty() ? bind + ":" + std::to_string(port) : advertise;
  }
};

// What an admitted peer sends (only built-in types: they cross the network).
using cluster_peer_actor = caf::typed_actor<
    // (node, incarnation, the peer addresses it knows, bytes received from the recipient): proof
    // of life, gossip so that the nodes form a full mesh, and the acknowledgement that moves the
    // recipient's send window (core/cluster/send_window.hpp).
    caf::reacts_to<atoms::heartbeat, std::string, std::uint64_t, std::vector<std::string>,
                   std::uint64_t>,
    // (topic, event, body, binary): a broadcast made on the sender's node; the body is JSON text,
    // or the bytes of a binary payload.
    caf::reacts_to<atoms::forward, std::string, std::string, std::string, bool>,
    // (shard index, shard count, envelope, sent at in Unix ms): presence replication from the
    // sender's shard to the same shard here (core/presence/replication.hpp).
    caf::reacts_to<atoms::replicate, std::uint64_t, std::uint64_t, std::string, std::int64_t>,
    // The sender is shutting down, so its presences leave now rather than after the down period
    // (Phoenix's graceful_permdown). Answered once the shards are told.
    caf::replies_to<atoms::leave>::with<caf::ok_atom>>;

// The cluster actor: the peer protocol plus this node's side.
using cluster_actor =
    cluster_peer_actor::extend_with<cluster_forwarder, cluster_replicator>::extend<
        // (peer's cluster actor, node, incarnation, address): a peer the gate admitted.
        caf::reacts_to<atoms::peer, caf::actor, std::string, std::uint64_t, std::string>,
        // -> {"node", "peers": [{"node", "address", "status", "last_heartbeat_ms"}]}, as
        // GET /debug/cluster shows it.
        caf::replies_to<atoms::list>::with<boost::json::value>,
        // -> {"peers_up", "peers", "forwarded", "received", "replicated", "dropped",
        // "replication_lag_ms"} for /metrics
        caf::replies_to<atoms::stats>::with<boost::json::value>>;

// The published gate: the handshake and nothing else (core/cluster/auth.hpp). A dialer says
// hello with a nonce; the gate answers with its node name, its nonce and its proof. The dialer,
// having checked that proof, sends its own with what the gate needs to admit it, and gets the
// cluster actor in return.
using cluster_gate_actor = caf::typed_actor<
    // (dialer's node, dialer's nonce) -> (our node, our nonce, our proof)
    caf::replies_to<atoms::hello, std::string, std::string>::with<std::string, std::string,
                                                                  std::string>,
    // (dialer's node, incarnation, address, proof, its cluster actor)
    //   -> (our cluster actor, our incarnation, our address)
    caf::replies_to<atoms::prove, std::string, std::uint64_t, std::string, std::string,
                    caf::actor>::with<caf::actor, std::uint64_t, std::string>>;

// Spawns the cluster actor and its gate, and publishes the gate on settings.bind:settings.port
// through the middleman (which the actor system must have loaded). The cluster actor attaches
// itself to every pubsub and presence shard: it delivers what peers broadcast through the pubsub
// shards, carries replication between presence shards and tells them which peers are connected.
// Throws std::runtime_error when the port cannot be taken.
cluster_actor spawn_cluster(caf::actor_system& sys, cluster_settings settings, pubsub_ref pubsub,
                            presence_ref presence);

}  // namespace beryl
