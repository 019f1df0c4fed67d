#pragma once
// Local pubsub: sharded actors mapping topic -> subscribers. A broadcast is encoded once per wire
// format and the same buffer is queued on every subscriber's outbox: no per-subscriber encoding
// and no per-subscriber actor hop, except for channels that intercept the event (handle_out).
#include "core/frame.hpp"
#include "actors/message_types.hpp"
#include "core/outbox.hpp"
#include "core/payload.hpp"
#include "core/serializer.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

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
  caf::actor channel;                                          // gets the events it intercepts
  std::shared_ptr<const std::vector<std::string>> intercepts;  // null: intercepts nothing
};

// A copyable handle to the pubsub shards; a topic always maps to the same shard.
class pubsub_ref {
 public:
  pubsub_ref() = default;
  explicit pubsub_ref(std::vector<caf::actor> shards);

  bool valid() const { return shards_ && !shards_->empty(); }
  const caf::actor& shard_for(std::string_view topic) const;
  std::size_t shard_count() const { return shards_ ? shards_->size() : 0; }

  // Sends `event` to every subscription of `topic` but `except` (a channel id, 0 for none).
  void broadcast(std::string topic, std::string event, payload body,
                 std::uint64_t except = 0) const;

 private:
  std::shared_ptr<const std::vector<caf::actor>> shards_;
};

// The supervised pubsub actor and its shards: the owner is linked to every shard, so the loss of
// one takes the whole pubsub down for its supervisor to restart. The owner also answers
// (atoms::shards) with the pubsub_ref, and takes (atoms::broadcast, topic, event, payload).
struct pubsub_handle {
  caf::actor owner;
  pubsub_ref shards;
};
pubsub_handle spawn_pubsub(caf::actor_system& sys, std::size_t shard_count);

}  // namespace beryl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::subscription)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::pubsub_ref)
