#pragma once
// What runs in a server, and how: under supervisors (the default), or bare for embedding.
#include "actors/cluster.hpp"
#include "actors/coordinator.hpp"
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "actors/router.hpp"
#include "app/runtime/config.hpp"
#include "supervision/child_spec.hpp"
#include "transport/io_runtime.hpp"
#include "transport/listener.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>
#include <vector>

namespace beryl::app {

// [pubsub, presence, cluster, coordinator, services, channels, listener] for a rest_for_one root
// supervisor: a crash restarts that child and every child after it (the cluster only when
// clustering: a pubsub restart restarts it, and it attaches itself to the new shards). A
// coordinator crash restarts the channel supervisor and the listener too, which closes the sockets;
// phoenix.js reconnects and rejoins. `services`, the app's own actors, go under a one_for_one
// supervisor of that name (absent when there are none): started before any channel, stopped after
// every channel, and one crashing is restarted alone.
std::vector<supervision::child_spec> application_tree(
    io_runtime& io, const server_config& config, const std::shared_ptr<const router>& routes,
    const server_hooks& hooks, std::vector<supervision::child_spec> services);

// The same actors, unsupervised, like beryl's `beryl.start`: for a program that embeds the
// server in its own actor system and wants no supervisors. Not recommended: nothing restarts a
// crashed coordinator or listener, so one crash there leaves the server half dead. (A crash in a
// channel still ends that channel only.)
struct unsupervised_server {
  pubsub_actor pubsub;
  presence_actor presence;
  cluster_actor cluster;  // when clustering
  coordinator_actor coordinator;
  listener_actor listener;
  std::uint16_t port = 0;
};
unsupervised_server start_unsupervised(caf::actor_system& sys, io_runtime& io,
                                       const server_config& config,
                                       const std::shared_ptr<const router>& routes,
                                       const server_hooks& hooks);
// Stops them in reverse start order (the listener closes its sockets with 1001 first).
void stop_unsupervised(caf::actor_system& sys, const unsupervised_server& server);

}  // namespace beryl::app
