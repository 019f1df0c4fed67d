#pragma once
// The presence actor: this node's Tracker replica (presence_state.hpp) behind Phoenix.Presence's
// API. Channels track themselves under a key with a meta; the actor monitors every tracked
// channel, so its entries go away when it ends, however it ends (no stale presences even when
// application code forgets to untrack). Changes are coalesced for `diff_interval` and broadcast
// to their topic as one "presence_diff", so joins and leaves cannot flood a topic.
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"
#include "actors/pubsub.hpp"
#include "core/presence/size_limit.hpp"

#include <boost/json/object.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace beryl {

struct presence_settings {
  std::chrono::milliseconds diff_interval{50};  // how long changes are coalesced
  std::string node = "beryl";                   // the replica's node name
  // Key plus meta as JSON, in bytes; a larger track or update fails with "meta too large".
  std::size_t max_meta_bytes = presence::default_max_meta_bytes;
};

// The owner is the tracked actor, normally a channel: its entries leave when it ends. `meta` is
// a payload holding a JSON object. Replication between nodes is core/presence/replication.hpp.
using presence_actor = caf::typed_actor<
    // (owner, topic, key, meta) -> the new phx_ref, or error "already_tracked" or
    // "meta too large"
    caf::replies_to<atoms::track, caf::actor, std::string, std::string, payload>::with<std::string>,
    // (owner, topic, key, meta) -> the new phx_ref, or error "nopresence" or "meta too large"
    caf::replies_to<atoms::update, caf::actor, std::string, std::string,
                    payload>::with<std::string>,
    // (owner, topic, key)
    caf::replies_to<atoms::untrack, caf::actor, std::string, std::string>::with<caf::ok_atom>,
    // (owner): everything it tracks
    caf::replies_to<atoms::untrack, caf::actor>::with<caf::ok_atom>,
    // (topic) -> the presence_state payload
    caf::replies_to<atoms::list, std::string>::with<payload>,
    // (topic, key) -> {"metas": [...]} (Phoenix's get_by_key), or {}
    caf::replies_to<atoms::list, std::string, std::string>::with<payload>>;

presence_actor spawn_presence(caf::actor_system& sys, pubsub_ref pubsub,
                              presence_settings settings);

}  // namespace beryl
