#include "app/server.hpp"

#include "actors/coordinator.hpp"
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "actors/stop_reason.hpp"
#include "app/debug_routes.hpp"
#include "supervision/blocking.hpp"
#include "supervision/dynamic_supervisor.hpp"
#include "supervision/errors.hpp"
#include "supervision/registry.hpp"
#include "supervision/supervisor.hpp"
#include "transport/io_runtime.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace beryl::app {
namespace {

namespace sv = supervision;
using signal_atom = caf::atom_constant<caf::atom("signal")>;

// Each connection is a file descriptor: take every one the hard limit allows.
void raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) spdlog::info("open files limit: {}", limit.rlim_cur);
}

// SIGINT and SIGTERM are taken by sigwait; block them before any thread starts.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// The root supervisor, once started, for the HTTP routes that show or poke the tree.
class root_slot {
 public:
  void set(caf::actor root) {
    std::lock_guard lock(mutex_);
    root_ = std::move(root);
  }
  caf::actor get() const {
    std::lock_guard lock(mutex_);
    return root_;
  }

 private:
  mutable std::mutex mutex_;
  caf::actor root_;
};

sv::child_spec named(std::string name, sv::start_function start) {
  auto spec = sv::worker_spec(std::move(name), std::move(start));
  spec.registered = true;  // reachable by name after every restart
  return spec;
}

// The application tree [pubsub, presence, coordinator, channels, listener], rest_for_one as in
// beryl and OTP practice: a crash restarts that child and every child after it. A coordinator
// crash restarts the channel supervisor and the listener too, which closes the sockets;
// phoenix.js reconnects and rejoins by itself.
std::vector<sv::child_spec> application_tree(io_runtime& io, const server_config& config,
                                             std::shared_ptr<const router> routes,
                                             server_hooks hooks) {
  // Written when pubsub (re)starts, read when the listener (re)starts: always after it.
  auto shards = std::make_shared<pubsub_ref>();
  // A restarted listener binds the port its first incarnation got (--port 0 picks one once).
  auto port = std::make_shared<std::uint16_t>(config.transport.port);
  auto channels = sv::dynamic_supervisor_spec({"channels"});
  channels.registered = true;
  return {
      named("pubsub",
            [shards, count = config.pubsub_shards](caf::local_actor* parent) {
              auto handle = spawn_pubsub(parent->system(), count);
              *shards = handle.shards;
              return handle.owner;
            }),
      named("presence",
            [shards, interval = config.presence_diff_interval](caf::local_actor* parent) {
              presence_settings settings;
              settings.diff_interval = interval;
              return spawn_presence(parent->system(), *shards, std::move(settings));
            }),
      named("coordinator",
            [routes](caf::local_actor* parent) {
              return spawn_coordinator(parent->system(), routes);
            }),
      channels,
      named("listener",
            [&io, shards, port, routes, config, hooks](caf::local_actor* parent) {
              auto& sys = parent->system();
              auto deps = std::make_shared<const socket_deps>(socket_deps{
                  routes, *shards, sv::lookup(sys, "coordinator"), sv::lookup(sys, "presence"),
                  sv::lookup(sys, "channels"), config.sockets});
              auto settings = config.transport;
              settings.port = *port;
              auto listener = spawn_listener(sys, io, settings, hooks, std::move(deps));
              *port = listener.port;
              return listener.actor;
            }),
  };
}

// Until SIGINT/SIGTERM (graceful stop, exit 0) or the root supervisor giving up (exit 1).
int run_until_stopped(caf::actor_system& sys, io_runtime& io, const caf::actor& root,
                      const sigset_t& signals) {
  caf::scoped_actor self{sys};
  self->monitor(root);
  std::thread signal_waiter([&signals, waiter = caf::actor{self}] {
    int signal = 0;
    sigwait(&signals, &signal);
    caf::anon_send(waiter, signal_atom::value, signal);
  });
  int status = 0;
  bool waiter_done = false;
  self->receive(
      [&](caf::down_msg& dm) {
        spdlog::critical("the root supervisor stopped ({}): the server cannot go on",
                         sys.render(dm.reason));
        status = 1;
      },
      [&](signal_atom, int signal) {
        spdlog::info("{} received: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
        waiter_done = true;
      });
  if (!waiter_done) pthread_kill(signal_waiter.native_handle(), SIGTERM);  // ends its sigwait
  signal_waiter.join();
  if (status == 0 && !sv::stop_supervisor(sys, root, std::chrono::seconds(30)))
    spdlog::warn("the supervision tree did not stop in 30 s");
  // Let the sockets finish their closing handshakes.
  io.drain(std::chrono::seconds(3));
  spdlog::info("stopped");
  return status;
}

}  // namespace

server_config config_from_command_line(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_config(args, [](const char* name) { return std::getenv(name); });
  if (!parsed.config) {
    std::fputs(parsed.text.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    std::exit(parsed.exit_code);
  }
  return *parsed.config;
}

int serve(const server_config& config, std::shared_ptr<const router> routes, server_hooks hooks) {
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  auto signals = block_stop_signals();
  raise_open_files_limit();

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", config.actor_threads);
  cfg.add_error_category(stop_category, render_stop_code);
  sv::add_error_category(cfg);
  caf::actor_system sys{cfg};
  io_runtime io{config.io_threads};
  spdlog::info("{} network thread(s), {} actor thread(s)", config.io_threads, config.actor_threads);

  auto root = std::make_shared<root_slot>();
  hooks.http = first_of({debug_routes(
                             sys, [root] { return root->get(); }, config.enable_crash_injection),
                         std::move(hooks.http)});
  if (config.enable_crash_injection)
    spdlog::warn("crash injection is enabled: POST /debug/crash?child=NAME");
  auto started = sv::start_supervisor(
      sys, {"root", sv::restart_strategy::rest_for_one, 3, std::chrono::seconds(5)},
      application_tree(io, config, std::move(routes), std::move(hooks)));
  if (!started) {
    spdlog::critical("the server could not start: {}", sys.render(started.error()));
    return 1;
  }
  root->set(*started);
  return run_until_stopped(sys, io, *started, signals);
}

}  // namespace beryl::app
