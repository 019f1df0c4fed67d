#pragma once
// Presence, as Phoenix.Presence: sharded by topic (docs/presence.md §2). Each shard is a Tracker
// replica (core/presence/state.hpp) for the topics that hash to it. Channels track themselves
// under a key with a meta; the shard monitors every tracked channel, so its entries go away when
// it ends, however it ends (no stale presences even when application code forgets to untrack).
// Changes are coalesced as they arrive and sent after `diff_interval` (up to `diff_interval_max`
// while a big topic's keep coming) to the topic's pubsub shard, which broadcasts them as one
// "presence_diff" and keeps the topic's presence as the diffs tell it. A joining member's
// presence_state is written there, from a text built at most once per change and shared by every
// join: a join costs no work that grows with the room.
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"
#include "actors/pubsub.hpp"
#include "actors/topic_shards.hpp"
#include "core/presence/replication.hpp"
#include "core/presence/size_limit.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <string>

namespace beryl {

struct presence_settings {
  std::chrono::milliseconds diff_interval{50};  // how long changes are coalesced
  // While a big topic's changes keep coming, the window doubles up to this
  // (core/presence/coalescing_window.hpp).
  std::chrono::milliseconds diff_interval_max{100};
  std::string node = "beryl";  // the replicas' node name
  // Key plus meta as JSON, in bytes; a larger track or update fails with "meta too large".
  std::size_t max_meta_bytes = presence::default_max_meta_bytes;
  std::size_t shards = 1;  // --presence-shards
  // In a cluster each shard replicates its topics with the same shard of every other node, as
  // Phoenix.Tracker's shards do (docs/cluster.md §5): --presence-broadcast-ms, and
  // --presence-down-period-ms after which a silent node's presences leave.
  bool clustered = false;
  presence::replication_settings replication;
};

// The part of the cluster (actors/cluster.hpp) a presence shard uses: (nodes, shard index, shard
// count, envelope), a replication message (core/presence/replication.hpp, as JSON text) for the
// same shard of each of those nodes.
using cluster_replicator =
    caf::typed_actor<caf::reacts_to<atoms::replicate, std::vector<std::string>, std::uint64_t,
                                    std::uint64_t, std::string>>;

// One shard. The owner is the tracked actor, normally a channel: its entries leave when it ends.
// `meta` is a payload holding a JSON object. Replication between nodes is
// core/presence/replication.hpp.
using presence_shard_actor = caf::typed_actor<
    // (owner, topic, key, meta) -> the new phx_ref, or error "already_tracked" or
    // "meta too large"
    caf::replies_to<atoms::track, caf::actor, std::string, std::string, payload>::with<std::string>,
    // (owner, topic, key, meta) -> the new phx_ref, or error "nopresence" or "meta too large"
    caf::replies_to<atoms::update, caf::actor, std::string, std::string,
                    payload>::with<std::string>,
    // (owner, topic, key)
    caf::replies_to<atoms::untrack, caf::actor, std::string, std::string>::with<caf::ok_atom>,
    // (owner): everything it tracks in this shard's topics
    caf::replies_to<atoms::untrack, caf::actor>::with<caf::ok_atom>,
    // (topic, subscriber id, join_ref): has the topic's pubsub shard push that subscriber its
    // presence_state once the changes made so far are sent: now, or after the next diff.
    caf::reacts_to<atoms::state, std::string, std::uint64_t, ref_t>,
    // (topic) -> the presence_state payload, pending changes included
    caf::replies_to<atoms::list, std::string>::with<payload>,
    // (topic, key) -> {"metas": [...]} (Phoenix's get_by_key), or {}
    caf::replies_to<atoms::list, std::string, std::string>::with<payload>,
    // -> the messages still queued behind this one (the operator's dashboard)
    caf::replies_to<atoms::mailbox>::with<std::size_t>,
    // From the cluster: (envelope) a replication message from this shard's peer on another node.
    caf::reacts_to<atoms::replicate, std::string>,
    // From the cluster when it starts: replication goes through it from now on.
    caf::reacts_to<atoms::cluster, cluster_replicator>,
    // From the cluster: (node, connected) a peer node connected, or its connection was lost.
    caf::reacts_to<atoms::peer, std::string, bool>,
    // From the cluster: (node) a peer node is shutting down; its presences leave now.
    caf::reacts_to<atoms::leave, std::string>>;

// A copyable handle to the shards; a topic always maps to the same shard.
using presence_ref = topic_shards<presence_shard_actor>;

// The supervised presence actor: it is linked to every shard, so the loss of one takes the whole
// presence down for its supervisor to restart. It answers reads from outside channels, such as
// Phoenix's Presence.list(topic), from the topic's shard.
using presence_actor =
    caf::typed_actor<caf::replies_to<atoms::list, std::string>::with<payload>,
                     caf::replies_to<atoms::list, std::string, std::string>::with<payload>>;

struct presence_handle {
  presence_actor owner;
  presence_ref shards;
};
presence_handle spawn_presence(caf::actor_system& sys, pubsub_ref pubsub,
                               presence_settings settings);

}  // namespace beryl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::cluster_replicator)
