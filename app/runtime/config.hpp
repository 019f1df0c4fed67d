#pragma once
// The server's configuration: embedded defaults, overridden by BERYL_* environment variables and
// then by command-line options (`beryl-server --help` lists them).
#include "actors/cluster.hpp"
#include "actors/socket.hpp"
#include "app/runtime/log_format.hpp"
#include "transport/settings.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace beryl::app {

// On SIGTERM, before the tree stops, as Phoenix's socket drainer: /healthz answers 503, new
// connections are refused, and open ones are closed with 1012 in batches, so their clients
// reconnect elsewhere gradually instead of all at once.
struct drain_settings {
  std::size_t batch_size = 10000;
  std::chrono::milliseconds batch_interval{2000};
  std::chrono::milliseconds timeout{30000};  // then the rest close at once, with 1001
};

struct server_config {
  transport_settings transport;
  socket_settings sockets;
  std::size_t io_threads = 0;     // 0: derived from the number of cores
  std::size_t actor_threads = 0;  // 0: derived from the number of cores
  // CAF's scheduler: "sharing" wakes an idle worker when work arrives; "stealing" polls and
  // sleeps between polls, which delays messages from network threads by up to its sleep.
  std::string scheduler_policy = "sharing";
  std::size_t pubsub_shards = 0;    // 0: one per actor thread
  std::size_t presence_shards = 0;  // 0: one per actor thread
  std::chrono::milliseconds presence_diff_interval{50};
  std::chrono::milliseconds presence_diff_max_interval{100};
  // In a cluster: how often presence shards heartbeat their peers with what changed, and how
  // long a silent node's presences stay (docs/cluster.md §5).
  std::chrono::milliseconds presence_broadcast_interval{1500};
  std::chrono::milliseconds presence_down_period{30000};
  std::string log_level = "info";
  app::log_format log_format = app::log_format::text;
  bool enable_crash_injection = false;
  // The per-thread message counters and latency histograms of /metrics (core/counters.hpp).
  bool metrics = true;
  // GET /dashboard and its channel "beryl:dashboard" (app/runtime/dashboard.hpp).
  bool dashboard = true;
  drain_settings drain;
  // --node, --cluster-port, --cluster-bind, --peers, --cluster-secret (docs/cluster.md).
  cluster_settings cluster;
  bool clustered() const { return cluster.port != 0; }
  bool unsupervised = false;  // no supervision tree (for comparison and embedding; not recommended)
};

struct parse_outcome {
  std::optional<server_config> config;  // empty: exit with `exit_code` after printing `text`
  int exit_code = 0;
  std::string text;
};

// An option of the embedding app, parsed and listed in --help after the server's own, and read
// from BERYL_<NAME> as they are: {"static-dir", "DIR", "where pages are served from", setter}.
struct app_option {
  std::string name;        // --name
  std::string value_hint;  // empty: a flag, applied with ""
  std::string help;
  std::function<void(const std::string& value)> apply;  // throws std::invalid_argument
};

// How --help introduces the program.
struct program_info {
  std::string name = "beryl-server";
  std::vector<app_option> options;
};

// `env` maps a variable name to its value (std::getenv in main, a fake in tests).
parse_outcome parse_config(const std::vector<std::string>& args,
                           const std::function<const char*(const char*)>& env,
                           const program_info& program = {});

}  // namespace beryl::app
