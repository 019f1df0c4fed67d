#include "app/runtime/server.hpp"

#include "actors/stop_reason.hpp"
#include "app/runtime/dashboard.hpp"
#include "app/runtime/dashboard_page.hpp"
#include "app/runtime/debug_routes.hpp"
#include "app/runtime/log_format.hpp"
#include "app/runtime/metrics.hpp"
#include "app/runtime/tree.hpp"
#include "core/counters.hpp"
#include "core/log_text.hpp"
#include "core/telemetry.hpp"
#include "supervision/blocking.hpp"
#include "supervision/errors.hpp"
#include "supervision/supervisor.hpp"
#include "transport/io_runtime.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
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

// Until SIGINT/SIGTERM (exit 0) or, when there is one, the root supervisor giving up (exit 1).
int wait_for_stop(caf::actor_system& sys, const caf::actor& root, const sigset_t& signals) {
  caf::scoped_actor self{sys};
  if (root) self->monitor(root);
  std::thread signal_waiter([&signals, waiter = caf::actor{self}] {
    int signal = 0;
    sigwait(&signals, &signal);
    caf::anon_send(waiter, signal_atom::value, signal);
  });
  int status = 0;
  bool signalled = false;
  self->receive(
      [&](caf::down_msg& dm) {
        spdlog::critical("the root supervisor stopped ({}): the server cannot go on",
                         sys.render(dm.reason));
        status = 1;
      },
      [&](signal_atom, int signal) {
        spdlog::info("{} received: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
        signalled = true;
      });
  // Not a kill: SIGTERM is blocked in every thread, so it only ends the waiter's sigwait.
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
  if (!signalled) pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  return status;
}

// Phoenix's drainer: /healthz says 503 (`ready`), the listener refuses new connections and
// closes the open ones in batches, until none is left or the drain's time is up. A second
// SIGINT or SIGTERM cuts it short. Whatever is left closes with the listener, with 1001.
void drain(caf::actor_system& sys, const listener_actor& listener, const drain_settings& settings,
           std::atomic<bool>& ready, const sigset_t& signals) {
  ready = false;
  if (!listener || settings.timeout <= std::chrono::milliseconds::zero()) return;
  caf::scoped_actor self{sys};
  const auto deadline = std::chrono::steady_clock::now() + settings.timeout;
  for (;;) {
    std::uint64_t left = 0;
    self->request(listener, std::chrono::seconds(5), atoms::drain::value,
                  std::uint64_t{settings.batch_size})
        .receive([&](std::uint64_t open) { left = open; },
                 [&](caf::error& err) {
                   spdlog::warn("drain: the listener did not answer: {}", sys.render(err));
                 });
    if (left == 0) return;
    if (std::chrono::steady_clock::now() + settings.batch_interval >= deadline) {
      spdlog::warn("drain: {} connection(s) left at the drain timeout: closing them now", left);
      return;
    }
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(settings.batch_interval);
    timespec pause{static_cast<time_t>(wait.count() / 1'000'000'000),
                   static_cast<long>(wait.count() % 1'000'000'000)};
    if (sigtimedwait(&signals, nullptr, &pause) > 0) {
      spdlog::info("drain: second signal: closing the {} connection(s) left now", left);
      return;
    }
  }
}

int run_supervised(caf::actor_system& sys, io_runtime& io, const server_config& config,
                   std::shared_ptr<const router> routes, server_hooks hooks,
                   std::vector<sv::child_spec> services, root_slot& root, std::atomic<bool>& ready,
                   const sigset_t& signals, endpoint& app_endpoint) {
  auto started = sv::start_supervisor(
      sys, {"root", sv::restart_strategy::rest_for_one, 3, std::chrono::seconds(5)},
      application_tree(io, config, std::move(routes), std::move(hooks), std::move(services)));
  if (!started) {
    spdlog::critical("the server could not start: {}", sys.render(started.error()));
    return 1;
  }
  root.set(*started);
  app_endpoint.bind(
      [&sys] { return caf::actor_cast<pubsub_actor>(sv::lookup(sys, "pubsub")); },
      [&sys] { return caf::actor_cast<coordinator_actor>(sv::lookup(sys, "coordinator")); });
  ready = true;
  int status = wait_for_stop(sys, *started, signals);
  if (status == 0)
    drain(sys, caf::actor_cast<listener_actor>(sv::lookup(sys, "listener")), config.drain, ready,
          signals);
  app_endpoint.unbind();
  if (status == 0 && !sv::stop_supervisor(sys, *started, std::chrono::seconds(30)))
    spdlog::warn("the supervision tree did not stop in 30 s");
  return status;
}

int run_unsupervised(caf::actor_system& sys, io_runtime& io, const server_config& config,
                     std::shared_ptr<const router> routes, server_hooks hooks,
                     std::atomic<bool>& ready, const sigset_t& signals, endpoint& app_endpoint) {
  unsupervised_server server;
  try {
    server = start_unsupervised(sys, io, config, std::move(routes), std::move(hooks));
  } catch (const std::exception& e) {
    spdlog::critical("the server could not start: {}", e.what());
    return 1;
  }
  app_endpoint.bind([&server] { return server.pubsub; }, [&server] { return server.coordinator; });
  ready = true;
  int status = wait_for_stop(sys, caf::actor{}, signals);
  drain(sys, server.listener, config.drain, ready, signals);
  app_endpoint.unbind();
  stop_unsupervised(sys, server);
  return status;
}

// Actors spawned outside the tree and never stopped (a table of actors an app keeps in a static,
// say) would keep the actor system's destructor waiting for them forever, and a handle destroyed
// after the system would crash. Erlang's VM ends such processes when it halts: so does this,
// after giving them a moment, by ending the process.
void exit_if_stray_actors(caf::actor_system& sys, std::chrono::milliseconds patience, int status) {
  auto deadline = std::chrono::steady_clock::now() + patience;
  while (sys.registry().running() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto left = sys.registry().running();
  if (left == 0) return;
  spdlog::warn(
      "{} actor(s) outside the supervision tree still running {} ms after it stopped: exiting "
      "without them (run the app's actors as services to stop them in order)",
      left, patience.count());
  spdlog::info("stopped");
  spdlog::shutdown();
  std::fflush(nullptr);
  std::_Exit(status);
}

}  // namespace

server_config config_from_command_line(int argc, char** argv, std::vector<app_option> app_options) {
  std::vector<std::string> args(argv + 1, argv + argc);
  program_info program;
  program.options = std::move(app_options);
  if (argc > 0 && argv[0][0] != '\0') program.name = std::filesystem::path(argv[0]).filename();
  auto parsed = parse_config(
      args, [](const char* name) { return std::getenv(name); }, program);
  if (!parsed.config) {
    std::fputs(parsed.text.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    std::exit(parsed.exit_code);
  }
  return *parsed.config;
}

int serve(const server_config& config, std::shared_ptr<const router> routes, server_hooks hooks,
          std::shared_ptr<endpoint> app_endpoint, std::vector<sv::child_spec> services) {
  if (config.unsupervised && !services.empty()) {
    std::fputs("--unsupervised: this program's services need the supervision tree\n", stderr);
    return 2;
  }
  if (!app_endpoint) app_endpoint = std::make_shared<endpoint>();
  use_log_format(config.log_format);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  auto signals = block_stop_signals();
  raise_open_files_limit();
  telemetry::on_handler_failure([](std::string_view id, std::string_view what) {
    spdlog::error("telemetry handler '{}' threw and was detached: {}", log_text(id),
                  log_text(what));
  });
  counters::set_enabled(config.metrics);
  std::optional<metrics_attachment> metrics;
  if (config.metrics) metrics.emplace();

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", config.actor_threads);
  cfg.set("scheduler.policy", caf::atom_from_string(config.scheduler_policy));
  cfg.add_error_category(stop_category, render_stop_code);
  // CAF's network layer, for the cluster's nodes (actors/cluster.hpp): loaded only to cluster.
  if (config.clustered()) cfg.load<caf::io::middleman>();
  sv::add_error_category(cfg);
  // io before sys, so that sys is destroyed first: an actor that ended may still hold Asio objects
  // until CAF has cleaned it up, after its supervisor learnt that it is down.
  io_runtime io{config.io_threads};
  caf::actor_system sys{cfg};
  spdlog::info("{} network thread(s), {} actor thread(s)", config.io_threads, config.actor_threads);

  // The debug routes answer 503 while no tree runs (during start, or --unsupervised), and
  // /healthz until everything has started.
  auto root = std::make_shared<root_slot>();
  auto ready = std::make_shared<std::atomic<bool>>(false);
  hooks.ready = [ready] { return ready->load(); };
  std::vector<http_handler> http{
      debug_routes(
          sys, [root] { return root->get(); }, config.enable_crash_injection),
      metrics_route(sys, [root] { return root->get(); }),
      connections_route(sys, [app_endpoint] { return app_endpoint->coordinator(); }),
      cluster_route(sys, config.clustered(),
                    config.cluster.node.empty() ? "nonode@nohost" : config.cluster.node)};
  // The dashboard samples the supervision tree: none without one.
  if (config.dashboard && !config.unsupervised) {
    http.push_back(dashboard_route(config.transport.socket_path));
    routes = with_dashboard_channel(routes);
  }
  http.push_back(std::move(hooks.http));
  hooks.http = first_of(std::move(http));
  if (config.enable_crash_injection)
    spdlog::warn("crash injection is enabled: POST /debug/crash?child=NAME");
  int status = config.unsupervised
                   ? run_unsupervised(sys, io, config, std::move(routes), std::move(hooks), *ready,
                                      signals, *app_endpoint)
                   : run_supervised(sys, io, config, std::move(routes), std::move(hooks),
                                    std::move(services), *root, *ready, signals, *app_endpoint);
  // Let the sockets finish their closing handshakes, then end the rest of the connections (and
  // so their actors); the system's destructor waits for every actor.
  io.drain(std::chrono::seconds(3));
  io.stop();
  exit_if_stray_actors(sys, std::chrono::seconds(3), status);
  spdlog::info("stopped");
  return status;
}

}  // namespace beryl::app
