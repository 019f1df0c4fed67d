#include "app/server.hpp"

#include "actors/atoms.hpp"
#include "actors/coordinator.hpp"
#include "actors/pubsub.hpp"
#include "actors/stop_reason.hpp"
#include "transport/io_runtime.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <sys/resource.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace beryl::app {
namespace {

// Each connection is a file descriptor: take every one the hard limit allows.
void raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) spdlog::info("open files limit: {}", limit.rlim_cur);
}

// SIGINT and SIGTERM are taken by sigwait in main; block them before any thread starts.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void stop_and_wait(caf::scoped_actor& self, const caf::actor& a) {
  if (!a) return;
  self->monitor(a);
  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {},
                caf::after(std::chrono::seconds(10)) >>
                    [] { spdlog::warn("an actor took more than 10 s to stop"); });
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
  auto stop_signals = block_stop_signals();
  raise_open_files_limit();

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", config.actor_threads);
  cfg.add_error_category(stop_category, render_stop_code);
  caf::actor_system sys{cfg};
  io_runtime io{config.io_threads};
  spdlog::info("{} network thread(s), {} actor thread(s)", config.io_threads, config.actor_threads);

  caf::scoped_actor self{sys};
  auto pubsub = spawn_pubsub(sys, config.pubsub_shards);
  pubsub_ref shards;
  self->request(pubsub, caf::infinite, atoms::shards::value)
      .receive([&](pubsub_ref r) { shards = r; }, [](caf::error&) {});
  auto coordinator = spawn_coordinator(sys, routes);
  auto deps =
      std::make_shared<socket_deps>(socket_deps{routes, shards, coordinator, config.sockets});

  caf::actor listener;
  try {
    listener = spawn_listener(sys, io, config.transport, hooks, deps);
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}:{}: {}", config.transport.host, config.transport.port,
                     e.what());
    stop_and_wait(self, coordinator);
    stop_and_wait(self, pubsub);
    return 1;
  }

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("{} received: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  // Reverse start order. The listener closes every socket with 1001, so clients reconnect.
  stop_and_wait(self, listener);
  io.drain(std::chrono::seconds(3));
  stop_and_wait(self, coordinator);
  stop_and_wait(self, pubsub);
  spdlog::info("stopped");
  return 0;
}

}  // namespace beryl::app
