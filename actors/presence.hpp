#pragma once
// The presence actor: this node's Tracker replica (presence_state.hpp) behind Phoenix.Presence's
// API. Channels track themselves under a key with a meta; the actor monitors every tracked
// channel, so its entries go away when it ends, however it ends (no stale presences even when
// application code forgets to untrack). Changes are coalesced for `diff_interval` and broadcast
// to their topic as one "presence_diff", so joins and leaves cannot flood a topic.
#include "actors/message_types.hpp"
#include "actors/pubsub.hpp"

#include <boost/json/object.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace beryl {

struct presence_settings {
  std::chrono::milliseconds diff_interval{50};       // how long changes are coalesced
  std::chrono::milliseconds broadcast_period{1500};  // the replication tick (deltas to peers)
  std::string node = "beryl";                        // the replica's node name
  // Called with every presence_diff as it is broadcast (beryl's on_diff).
  std::function<void(const std::string& topic, const boost::json::object& diff)> on_diff;
  // Called each tick with this replica's delta as JSON text, when it has changes: ship it to
  // peer nodes, which merge it with (atoms::merge, text). Unset: a single node.
  std::function<void(std::string encoded_delta)> replicate;
};

// Messages (the owner is the tracked actor, normally a channel):
//   (atoms::track,   owner, topic, key, meta)  -> std::string phx_ref   | error already_tracked
//   (atoms::update,  owner, topic, key, meta)  -> std::string phx_ref   | error nopresence
//   (atoms::untrack, owner, topic, key)        -> ok
//   (atoms::untrack, owner)                    -> ok (everything of that owner)
//   (atoms::list,    topic)                    -> payload: the presence_state object
//   (atoms::list,    topic, key)               -> payload: {"metas": [...]} (get_by_key), or {}
//   (atoms::merge,   encoded delta)            a peer's delta
// `meta` is a payload holding a JSON object.
caf::actor spawn_presence(caf::actor_system& sys, pubsub_ref pubsub, presence_settings settings);

}  // namespace beryl
