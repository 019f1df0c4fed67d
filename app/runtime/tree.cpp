#include "app/runtime/tree.hpp"

#include "actors/cluster.hpp"
#include "actors/coordinator.hpp"
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "app/runtime/dashboard.hpp"
#include "supervision/dynamic_supervisor.hpp"
#include "supervision/registry.hpp"
#include "supervision/supervisor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>

namespace beryl::app {
namespace {

namespace sv = supervision;

presence_handle start_presence(caf::actor_system& sys, const pubsub_ref& shards,
                               const server_config& config) {
  presence_settings settings;
  settings.diff_interval = config.presence_diff_interval;
  settings.diff_interval_max = config.presence_diff_max_interval;
  settings.max_meta_bytes = config.sockets.max_presence_meta;
  settings.shards = config.presence_shards;
  if (!config.cluster.node.empty()) settings.node = config.cluster.node;
  settings.clustered = config.clustered();
  settings.replication.broadcast_period = config.presence_broadcast_interval;
  settings.replication.down_period = config.presence_down_period;
  return spawn_presence(sys, shards, std::move(settings));
}

listener_handle start_listener(caf::actor_system& sys, io_runtime& io, const server_config& config,
                               std::uint16_t port, const server_hooks& hooks, socket_deps deps) {
  auto settings = config.transport;
  settings.port = port;
  return spawn_listener(sys, io, settings, hooks,
                        std::make_shared<const socket_deps>(std::move(deps)));
}

sv::child_spec named(std::string name, sv::start_function start) {
  auto spec = sv::worker_spec(std::move(name), std::move(start));
  spec.registered = true;  // reachable by name after every restart
  return spec;
}

}  // namespace

std::vector<sv::child_spec> application_tree(io_runtime& io, const server_config& config,
                                             const std::shared_ptr<const router>& routes,
                                             const server_hooks& hooks,
                                             std::vector<sv::child_spec> services) {
  // Written when pubsub and presence (re)start, read when the listener (re)starts: always after.
  auto shards = std::make_shared<pubsub_ref>();
  auto presence = std::make_shared<presence_ref>();
  // A restarted listener binds the port its first incarnation got (--port 0 picks one once).
  auto port = std::make_shared<std::uint16_t>(config.transport.port);
  auto channels = sv::dynamic_supervisor_spec({"channels"});
  channels.registered = true;
  std::vector<sv::child_spec> tree{
      named("pubsub",
            [shards, count = config.pubsub_shards](caf::local_actor* parent) {
              auto handle = spawn_pubsub(parent->system(), count);
              *shards = handle.shards;
              return caf::actor_cast<caf::actor>(handle.owner);
            }),
      named("presence",
            [shards, presence, config](caf::local_actor* parent) {
              auto handle = start_presence(parent->system(), *shards, config);
              *presence = handle.shards;
              return caf::actor_cast<caf::actor>(handle.owner);
            }),
      named("cluster",
            [shards, presence, config](caf::local_actor* parent) {
              return caf::actor_cast<caf::actor>(
                  spawn_cluster(parent->system(), config.cluster, *shards, *presence));
            }),
      named("coordinator",
            [](caf::local_actor* parent) {
              return caf::actor_cast<caf::actor>(spawn_coordinator(parent->system()));
            }),
      channels,
      named("listener",
            [&io, shards, presence, port, routes, config, hooks](caf::local_actor* parent) {
              auto& sys = parent->system();
              auto listener = start_listener(
                  sys, io, config, *port, hooks,
                  {routes, *shards,
                   caf::actor_cast<coordinator_actor>(sv::lookup(sys, "coordinator")), *presence,
                   sv::lookup(sys, "channels"), config.sockets});
              *port = listener.port;
              return caf::actor_cast<caf::actor>(listener.actor);
            }),
  };
  if (!config.clustered())
    tree.erase(std::find_if(tree.begin(), tree.end(),
                            [](const sv::child_spec& c) { return c.name == "cluster"; }));
  if (config.dashboard)
    tree.push_back(dashboard_spec(shards, presence, config.enable_crash_injection));
  if (!services.empty()) {
    auto channels_at = std::find_if(tree.begin(), tree.end(),
                                    [](const sv::child_spec& c) { return c.name == "channels"; });
    auto services_spec = sv::supervisor_spec({"services"}, std::move(services));
    services_spec.registered = true;  // for the dashboard's crash buttons
    tree.insert(channels_at, std::move(services_spec));
  }
  return tree;
}

unsupervised_server start_unsupervised(caf::actor_system& sys, io_runtime& io,
                                       const server_config& config,
                                       const std::shared_ptr<const router>& routes,
                                       const server_hooks& hooks) {
  spdlog::warn("starting without supervisors: nothing restarts a crashed coordinator or listener");
  unsupervised_server s;
  auto pubsub = spawn_pubsub(sys, config.pubsub_shards);
  s.pubsub = pubsub.owner;
  auto presence = start_presence(sys, pubsub.shards, config);
  s.presence = presence.owner;
  s.coordinator = spawn_coordinator(sys);
  try {
    if (config.clustered())
      s.cluster = spawn_cluster(sys, config.cluster, pubsub.shards, presence.shards);
    // No channel supervisor: socket actors spawn their channels themselves.
    auto listener =
        start_listener(sys, io, config, config.transport.port, hooks,
                       {routes, pubsub.shards, s.coordinator, presence.shards, {}, config.sockets});
    s.listener = listener.actor;
    s.port = listener.port;
  } catch (...) {
    stop_unsupervised(sys, s);
    throw;
  }
  return s;
}

void stop_unsupervised(caf::actor_system& sys, const unsupervised_server& server) {
  caf::scoped_actor self{sys};
  for (const auto& actor :
       {caf::actor_cast<caf::actor>(server.listener),
        caf::actor_cast<caf::actor>(server.coordinator),
        caf::actor_cast<caf::actor>(server.cluster), caf::actor_cast<caf::actor>(server.presence),
        caf::actor_cast<caf::actor>(server.pubsub)}) {
    if (!actor) continue;
    self->monitor(actor);
    self->send_exit(actor, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(10)) >>
                      [] { spdlog::warn("an actor took over 10 s to stop"); });
  }
}

}  // namespace beryl::app
