#pragma once
// Local pubsub: sharded actors mapping topic -> subscribers. A broadcast is encoded once per wire
// format and the same buffer is queued on every subscriber's outbox: no per-subscriber encoding
// and no per-subscriber actor hop, except for channels that intercept the event (handle_out).
#include "actors/atoms.hpp"
#include "actors/channel_protocol.hpp"
#include "actors/message_types.hpp"
#include "actors/topic_shards.hpp"
#include "core/frame.hpp"
#include "core/outbox.hpp"
#include "core/payload.hpp"
#include "core/presence/state.hpp"
#include "core/serializer.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace beryl {

struct subscription {
  std::uint64_t id = 0;         // the channel actor's id; broadcast_from excludes it
  std::shared_ptr<outbox> out;  // null: every event goes to `channel` (a socket's id topic)
  const serializer* format = nullptr;
  event_receiver channel;                                      // gets the events it intercepts
  std::shared_ptr<const std::vector<std::string>> intercepts;  // null: intercepts nothing
  // Its presence_state is on its way (channel::push_presence_state in join): the topic's
  // presence_diffs are held back until it is written, since it will include them.
  bool awaits_presence_state = false;
};

// The part of the cluster (actors/cluster.hpp) a pubsub shard uses: (topic, event, payload), a
// broadcast made on this node, for the cluster to send to every other node, once per node.
using cluster_forwarder =
    caf::typed_actor<caf::reacts_to<atoms::broadcast, std::string, std::string, payload>>;

// One shard: the subscribers of the topics that hash to it, and, for topics with presence, who
// is in them as the presence_diffs sent so far say (core/presence/topic_view.hpp).
using pubsub_shard_actor = caf::typed_actor<
    // Adds a subscriber and writes its join reply first, so the reply precedes every broadcast.
    caf::replies_to<atoms::subscribe, std::string, subscription, frame>::with<caf::ok_atom>,
    // (topic, source, changes): the coalesced changes from `source`, the presence shard owning
    // the topic (its actor id: ids grow, so a larger one is a restarted presence). Broadcast as
    // one "presence_diff" and applied to the topic's presence.
    caf::reacts_to<atoms::presence, std::string, caf::actor_id, presence::topic_diff>,
    // (topic, subscriber id, join_ref, source): pushes the subscriber the topic's presence_state
    // as the diffs so far tell it; the diffs it gets from then on start there.
    caf::reacts_to<atoms::state, std::string, std::uint64_t, ref_t, caf::actor_id>,
    // (topic, subscriber id) -> whether it was subscribed. A channel that ends before its
    // subscription is acknowledged hands its join request over to this answer, which comes
    // after the join reply the subscription wrote.
    caf::replies_to<atoms::unsubscribe, std::string, std::uint64_t>::with<bool>,
    // (topic, event, payload, the channel id to skip or 0): encoded once per wire format, and
    // handed to the cluster, when there is one, for the other nodes.
    caf::reacts_to<atoms::broadcast, std::string, std::string, payload, std::uint64_t>,
    // (topic, event, payload): a broadcast made on another node, for this node's subscribers.
    caf::reacts_to<atoms::forward, std::string, std::string, payload>,
    // From now on, this node's broadcasts also go to this cluster. The cluster sends it to every
    // shard when it starts (again after each restart: pubsub restarts restart the cluster too).
    caf::reacts_to<atoms::cluster, cluster_forwarder>,
    // -> the messages still queued behind this one (the operator's dashboard)
    caf::replies_to<atoms::mailbox>::with<std::size_t>>;

// A copyable handle to the pubsub shards; a topic always maps to the same shard.
class pubsub_ref : public topic_shards<pubsub_shard_actor> {
 public:
  using topic_shards::topic_shards;

  // Sends `event` to every subscription of `topic` but `except` (a channel id, 0 for none).
  void broadcast(std::string topic, std::string event, payload body,
                 std::uint64_t except = 0) const;
  // The same with an object written in braces: broadcast(topic, "tick", {{"n", 1}}).
  void broadcast(std::string topic, std::string event, boost::json::object body,
                 std::uint64_t except = 0) const {
    broadcast(std::move(topic), std::move(event), payload(std::move(body)), except);
  }
};

// The supervised pubsub actor: it is linked to every shard and to the shards' outbox writers
// (actors/outbox_writers.hpp), so the loss of one takes the whole pubsub down for its supervisor
// to restart.
using pubsub_actor = caf::typed_actor<
    // A broadcast from outside any channel: (topic, event, payload).
    caf::reacts_to<atoms::broadcast, std::string, std::string, payload>>;

struct pubsub_handle {
  pubsub_actor owner;
  pubsub_ref shards;
};
pubsub_handle spawn_pubsub(caf::actor_system& sys, std::size_t shard_count);

}  // namespace beryl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::subscription)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::presence::topic_diff)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::pubsub_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::cluster_forwarder)
