#pragma once
// What every socket actor shares: the routes, the pubsub, the control-plane actors and the
// per-connection settings. The transport holds one and hands it to each socket it starts.
#include "actors/coordinator.hpp"
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "actors/router.hpp"
#include "core/presence/size_limit.hpp"
#include "core/token_bucket.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace beryl {

struct socket_settings {
  std::size_t max_channels = 100;
  // Inbound messages per connection (all topics) and per connection and topic; heartbeats and
  // leaves are never limited. Over the limit a join gets error {"reason": "rate_limited"}, any
  // other message is dropped without a reply (its push times out at the client), as in beryl.
  rate_limit message_rate;
  rate_limit channel_rate;
  // join() must return within it, or its channel ends unjoined (the client: "join crashed").
  std::chrono::milliseconds join_timeout{10000};
  std::chrono::milliseconds stop_timeout{5000};  // a replaced channel is killed after this
  // The largest presence a channel may track, key plus meta as JSON (0: no limit). The channel
  // refuses it at once (track and update_presence return "meta too large") and the presence
  // actor enforces the same cap (presence_settings::max_meta_bytes).
  std::size_t max_presence_meta = presence::default_max_meta_bytes;
};

// What every socket actor shares.
struct socket_deps {
  std::shared_ptr<const router> routes;
  pubsub_ref pubsub;
  coordinator_actor coordinator;  // optional: without one, sockets are in no registry
  presence_ref presence;          // optional (valid when presence runs)
  caf::actor channel_supervisor;  // a dynamic supervisor; without one, channels are spawned bare
  socket_settings settings;
};

}  // namespace beryl
