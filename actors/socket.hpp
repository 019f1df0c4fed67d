#pragma once
// One actor per connection, whatever the transport: it takes the connection's decoded messages
// in order and runs Phoenix's per-connection state machine (protocol.md §4): heartbeats, joins
// (routing, channel limit, duplicate joins), leaves, stale join_refs, and phx_close/phx_error
// when a channel ends. The transport stops it with an exit reason (e.g. stop_code::closed).
#include "actors/context.hpp"
#include "actors/message_types.hpp"
#include "actors/pubsub.hpp"
#include "actors/router.hpp"
#include "actors/token_bucket.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>

namespace beryl {

struct socket_settings {
  std::size_t max_channels = 100;
  // Inbound messages per connection (all topics) and per connection and topic; heartbeats and
  // leaves are never limited. Over the limit a join gets error {"reason": "rate_limited"}, any
  // other message is dropped without a reply (its push times out at the client), as in beryl.
  rate_limit message_rate;
  rate_limit channel_rate;
  std::chrono::milliseconds join_timeout{10000};
  std::chrono::milliseconds stop_timeout{5000};  // a replaced channel is killed after this
};

// What every socket actor shares.
struct socket_deps {
  std::shared_ptr<const router> routes;
  pubsub_ref pubsub;
  caf::actor coordinator;
  caf::actor presence;            // optional
  caf::actor channel_supervisor;  // a dynamic supervisor; without one, channels are spawned bare
  socket_settings settings;
};

caf::actor spawn_socket(caf::actor_system& sys, std::shared_ptr<const socket_info> info,
                        std::shared_ptr<const socket_deps> deps);

}  // namespace beryl
