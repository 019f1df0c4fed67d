#include "app/runtime/config.hpp"

#include "core/cluster/peer_address.hpp"
#include "core/presence/replication.hpp"

#include <boost/asio/ip/address.hpp>

#include <sys/resource.h>
#include <algorithm>
#include <charconv>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace beryl::app {
namespace {

struct option {
  std::string name;        // --name, or BERYL_NAME in the environment
  std::string value_hint;  // empty: a flag
  std::string help;
  std::function<void(server_config&, const std::string&)> apply;  // throws std::invalid_argument
};

template <class Int>
Int to_int(const std::string& s, const char* what) {
  Int v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size())
    throw std::invalid_argument(std::string(what) + " needs a whole number, got '" + s + "'");
  return v;
}

std::vector<option> options() {
  return {
      {"host", "H", "address to listen on (default 127.0.0.1)",
       [](server_config& c, const std::string& v) { c.transport.host = v; }},
      {"port", "N", "port to listen on; 0 picks a free one (default 4000)",
       [](server_config& c, const std::string& v) {
         c.transport.port = to_int<std::uint16_t>(v, "--port");
       }},
      {"socket-path", "P", "WebSocket path (default /socket/websocket)",
       [](server_config& c, const std::string& v) {
         if (v.empty() || v[0] != '/')
           throw std::invalid_argument("--socket-path must start with /");
         c.transport.socket_path = v;
       }},
      {"idle-timeout-ms", "MS", "close sockets silent this long, with 1001 (default 60000)",
       [](server_config& c, const std::string& v) {
         c.transport.idle_timeout = std::chrono::milliseconds(to_int<long>(v, "--idle-timeout-ms"));
       }},
      {"max-frame-size", "BYTES", "larger messages close the socket with 1009 (default 1048576)",
       [](server_config& c, const std::string& v) {
         c.transport.max_frame_size = to_int<std::size_t>(v, "--max-frame-size");
       }},
      {"max-channels", "N", "channels one connection may join (default 100)",
       [](server_config& c, const std::string& v) {
         c.sockets.max_channels = to_int<std::size_t>(v, "--max-channels");
       }},
      {"message-rate", "N",
       "messages a second per connection, heartbeats and leaves aside (default 0: unlimited)",
       [](server_config& c, const std::string& v) {
         c.sockets.message_rate.per_second = to_int<unsigned>(v, "--message-rate");
       }},
      {"message-burst", "N", "messages a connection may send at once (default: --message-rate)",
       [](server_config& c, const std::string& v) {
         c.sockets.message_rate.burst = to_int<unsigned>(v, "--message-burst");
       }},
      {"channel-rate", "N", "messages a second per connection and topic (default 0: unlimited)",
       [](server_config& c, const std::string& v) {
         c.sockets.channel_rate.per_second = to_int<unsigned>(v, "--channel-rate");
       }},
      {"channel-burst", "N", "messages to one topic at once (default: --channel-rate)",
       [](server_config& c, const std::string& v) {
         c.sockets.channel_rate.burst = to_int<unsigned>(v, "--channel-burst");
       }},
      {"outbound-queue-limit", "N",
       "frames queued per connection before the slow-consumer policy (default 1024)",
       [](server_config& c, const std::string& v) {
         c.transport.outbound_queue_limit = to_int<std::size_t>(v, "--outbound-queue-limit");
       }},
      {"outbound-buffer-limit", "BYTES",
       "bytes queued for one connection before the slow-consumer policy (default 4194304)",
       [](server_config& c, const std::string& v) {
         c.transport.outbound_buffer_limit = to_int<std::size_t>(v, "--outbound-buffer-limit");
       }},
      {"inbound-buffer-limit", "BYTES",
       "unhandled bytes from one connection before it is not read (default 2097152)",
       [](server_config& c, const std::string& v) {
         c.transport.inbound_buffer_limit = to_int<std::size_t>(v, "--inbound-buffer-limit");
       }},
      {"max-connections", "N",
       "WebSocket and long-poll clients at once; more get 503 (default: open-files limit - 256)",
       [](server_config& c, const std::string& v) {
         c.transport.max_connections.total = to_int<std::size_t>(v, "--max-connections");
       }},
      {"max-connections-per-ip", "N",
       "clients at once from one address; more get 429 (default 0: no cap)",
       [](server_config& c, const std::string& v) {
         c.transport.max_connections.per_address =
             to_int<std::size_t>(v, "--max-connections-per-ip");
       }},
      {"slow-consumer", "disconnect|drop",
       "what a full outbound queue does (default disconnect: close 1013)",
       [](server_config& c, const std::string& v) {
         if (v == "disconnect")
           c.transport.slow_consumer = slow_consumer_policy::disconnect;
         else if (v == "drop")
           c.transport.slow_consumer = slow_consumer_policy::drop;
         else
           throw std::invalid_argument("--slow-consumer is disconnect or drop");
       }},
      {"check-origin", "ORIGINS|false",
       "browser origins allowed, e.g. https://example.com,*.example.org; false: any (default: the "
       "request's own Host)",
       [](server_config& c, const std::string& v) {
         c.transport.check_origin = handshake::origin_policy(v);
       }},
      {"tls-cert", "FILE",
       "PEM certificate chain: the port serves https and wss beside http and ws (with --tls-key)",
       [](server_config& c, const std::string& v) { c.transport.tls_cert = v; }},
      {"tls-key", "FILE", "PEM private key of --tls-cert",
       [](server_config& c, const std::string& v) { c.transport.tls_key = v; }},
      {"longpoll", "",
       "enable the long-poll transport (for clients without WebSocket; off by default)",
       [](server_config& c, const std::string&) { c.transport.longpoll = true; }},
      {"longpoll-path", "P", "long-poll path (default /socket/longpoll)",
       [](server_config& c, const std::string& v) {
         if (v.empty() || v[0] != '/')
           throw std::invalid_argument("--longpoll-path must start with /");
         c.transport.longpoll_path = v;
       }},
      {"longpoll-window-ms", "MS", "how long a long-poll GET waits for messages (default 10000)",
       [](server_config& c, const std::string& v) {
         c.transport.longpoll_window =
             std::chrono::milliseconds(to_int<long>(v, "--longpoll-window-ms"));
       }},
      {"drain-batch-size", "N",
       "on SIGTERM, connections closed (1012) per batch while draining (default 10000)",
       [](server_config& c, const std::string& v) {
         c.drain.batch_size = to_int<std::size_t>(v, "--drain-batch-size");
         if (c.drain.batch_size == 0)
           throw std::invalid_argument("--drain-batch-size must be at least 1");
       }},
      {"drain-batch-interval-ms", "MS", "between two drain batches (default 2000)",
       [](server_config& c, const std::string& v) {
         c.drain.batch_interval =
             std::chrono::milliseconds(to_int<long>(v, "--drain-batch-interval-ms"));
       }},
      {"drain-timeout-ms", "MS",
       "the longest a drain lasts; what is left then closes at once (default 30000, 0: no drain)",
       [](server_config& c, const std::string& v) {
         c.drain.timeout = std::chrono::milliseconds(to_int<long>(v, "--drain-timeout-ms"));
       }},
      {"io-threads", "N", "network threads (default: half the cores, at least 1)",
       [](server_config& c, const std::string& v) {
         c.io_threads = to_int<std::size_t>(v, "--io-threads");
       }},
      {"actor-threads", "N", "CAF scheduler threads (default: the other cores, at least 2)",
       [](server_config& c, const std::string& v) {
         c.actor_threads = to_int<std::size_t>(v, "--actor-threads");
       }},
      {"scheduler-policy", "sharing|stealing", "CAF scheduler policy (default sharing)",
       [](server_config& c, const std::string& v) {
         if (v != "sharing" && v != "stealing")
           throw std::invalid_argument("--scheduler-policy is sharing or stealing");
         c.scheduler_policy = v;
       }},
      {"pubsub-shards", "N", "pubsub shard actors (default: one per actor thread)",
       [](server_config& c, const std::string& v) {
         c.pubsub_shards = to_int<std::size_t>(v, "--pubsub-shards");
       }},
      {"presence-shards", "N",
       "presence shard actors, each owning the topics that hash to it (default: one per actor "
       "thread; in a cluster 8, and the same on every node)",
       [](server_config& c, const std::string& v) {
         c.presence_shards = to_int<std::size_t>(v, "--presence-shards");
       }},
      {"presence-diff-ms", "MS",
       "presence changes that follow others within this window are coalesced into one "
       "presence_diff per topic; one after a quiet spell goes out at once (default 50)",
       [](server_config& c, const std::string& v) {
         c.presence_diff_interval =
             std::chrono::milliseconds(to_int<long>(v, "--presence-diff-ms"));
       }},
      {"presence-diff-max-ms", "MS",
       "while a topic of 500 presences or more keeps changing, that window doubles up to this "
       "(default 100)",
       [](server_config& c, const std::string& v) {
         c.presence_diff_max_interval =
             std::chrono::milliseconds(to_int<long>(v, "--presence-diff-max-ms"));
       }},
      {"presence-broadcast-ms", "MS",
       "in a cluster, how often presence is sent to the other nodes (default 1500)",
       [](server_config& c, const std::string& v) {
         c.presence_broadcast_interval =
             std::chrono::milliseconds(to_int<long>(v, "--presence-broadcast-ms"));
       }},
      {"presence-down-period-ms", "MS",
       "in a cluster, how long a silent node's presences stay before they leave (default 30000)",
       [](server_config& c, const std::string& v) {
         c.presence_down_period =
             std::chrono::milliseconds(to_int<long>(v, "--presence-down-period-ms"));
       }},
      {"max-presence-meta", "BYTES",
       "largest presence a channel may track: key plus JSON meta (default 4096; 0: unlimited)",
       [](server_config& c, const std::string& v) {
         c.sockets.max_presence_meta = to_int<std::size_t>(v, "--max-presence-meta");
       }},
      {"log-level", "LEVEL", "trace, debug, info, warn, error or off (default info)",
       [](server_config& c, const std::string& v) { c.log_level = v; }},
      {"log-format", "text|json",
       "text, or json: one object a line with time, level, message and what the line is about "
       "(default text)",
       [](server_config& c, const std::string& v) { c.log_format = parse_log_format(v); }},
      {"node", "NAME", "this node's name in a cluster, unique in it (required to cluster)",
       [](server_config& c, const std::string& v) {
         if (v.empty()) throw std::invalid_argument("--node needs a name");
         c.cluster.node = v;
       }},
      {"cluster-port", "P",
       "port to listen on for other nodes of the cluster (default: no cluster)",
       [](server_config& c, const std::string& v) {
         c.cluster.port = to_int<std::uint16_t>(v, "--cluster-port");
       }},
      {"cluster-bind", "ADDR",
       "address to listen on for other nodes, and to tell them (default 127.0.0.1)",
       [](server_config& c, const std::string& v) { c.cluster.bind = v; }},
      {"cluster-advertise", "HOST:PORT",
       "address the other nodes reach this one at, when not --cluster-bind:--cluster-port "
       "(NAT, containers, a wildcard bind)",
       [](server_config& c, const std::string& v) {
         c.cluster.advertise = cluster::parse_peer_address(v).text();
       }},
      {"peers", "HOST:PORT,...",
       "nodes to join; the rest are learnt from them, and lost ones redialled forever",
       [](server_config& c, const std::string& v) {
         c.cluster.seeds.clear();
         for (const auto& p : cluster::parse_peer_list(v)) c.cluster.seeds.push_back(p.text());
       }},
      {"cluster-secret", "S",
       "shared by every node (required to cluster); nodes prove they know it, never send it",
       [](server_config& c, const std::string& v) { c.cluster.secret = v; }},
      {"enable-crash-injection", "", "enable POST /debug/crash?child=NAME (off by default)",
       [](server_config& c, const std::string&) { c.enable_crash_injection = true; }},
      {"unsupervised", "",
       "run without supervisors, like beryl.start (not recommended: nothing restarts)",
       [](server_config& c, const std::string&) { c.unsupervised = true; }},
      {"no-dashboard", "",
       "no /dashboard page and no beryl:dashboard channel (the operator's live view)",
       [](server_config& c, const std::string&) { c.dashboard = false; }},
      {"no-metrics", "",
       "count no messages and time no handle_in: /metrics keeps the tree and connections only",
       [](server_config& c, const std::string&) { c.metrics = false; }},
  };
}

std::string env_name(const std::string& option) {
  std::string name = "BERYL_";
  for (char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

std::string usage(const std::string& program, const std::vector<option>& opts) {
  std::ostringstream out;
  out << "usage: " << program
      << " [options]\n\n"
         "Phoenix-compatible channels server. Every option can also be set with an environment\n"
         "variable: --max-channels 10 is BERYL_MAX_CHANNELS=10 (the command line wins).\n\n";
  for (const auto& o : opts) {
    std::string left = "  --" + o.name + (o.value_hint.empty() ? "" : " " + o.value_hint);
    out << left << std::string(left.size() < 34 ? 34 - left.size() : 1, ' ') << o.help << '\n';
  }
  out << "  --help                          this text\n";
  return out.str();
}

// Descriptors kept free beside the connections: the listener, HTTP requests such as /healthz,
// handshakes in progress, log files and the runtime's own.
constexpr std::size_t descriptor_reserve = 256;

std::size_t default_max_connections() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  auto files = static_cast<std::size_t>(limit.rlim_cur);
  return files > 2 * descriptor_reserve ? files - descriptor_reserve : files / 2;
}

constexpr std::size_t cluster_presence_shards = 8;

void derive_defaults(server_config& c) {
  if (!c.transport.max_connections.total)
    c.transport.max_connections.total = default_max_connections();
  std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (!c.io_threads) c.io_threads = std::max<std::size_t>(1, cores / 2);
  // At least two actor threads: with the sharing scheduler one takes new work while another is
  // still waking up, which measured 20 % less server CPU per echo on 2 cores than one thread.
  if (!c.actor_threads)
    c.actor_threads = std::max<std::size_t>(2, cores - std::min(cores - 1, c.io_threads));
  if (!c.pubsub_shards) c.pubsub_shards = c.actor_threads;
  // A cluster's nodes replicate shard by shard, so they need the same count whatever their cores.
  if (!c.presence_shards)
    c.presence_shards = c.clustered() ? cluster_presence_shards : c.actor_threads;
}

bool is_wildcard(const std::string& address) {
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(address, ec);
  return !ec && ip.is_unspecified();
}

// What keeps the cluster options from making a cluster, if anything.
std::optional<std::string> cluster_error(const server_config& c) {
  if (!c.clustered())
    return c.cluster.seeds.empty() ? std::nullopt
                                   : std::optional<std::string>("--peers needs --cluster-port");
  if (c.cluster.node.empty()) return "--cluster-port needs --node NAME, unique in the cluster";
  if (c.cluster.secret.empty())
    return "--cluster-port needs --cluster-secret S, the same on every node";
  // Peers dial what a node advertises: a wildcard would send them to their own host.
  if (c.cluster.advertise.empty() && is_wildcard(c.cluster.bind))
    return "--cluster-bind " + c.cluster.bind +
           " needs --cluster-advertise HOST:PORT, the address the other nodes reach this one at";
  return std::nullopt;
}

// Every presence shard runs a replicator, clustered or not: its settings must make sense.
std::optional<std::string> replication_error(const server_config& c) {
  presence::replication_settings replication;
  replication.broadcast_period = c.presence_broadcast_interval;
  replication.down_period = c.presence_down_period;
  auto why = presence::settings_error(replication);
  if (!why) return std::nullopt;
  return "--presence-broadcast-ms and --presence-down-period-ms: " + *why +
         " (the down period must exceed 11 broadcast periods)";
}

}  // namespace

parse_outcome parse_config(const std::vector<std::string>& args,
                           const std::function<const char*(const char*)>& env,
                           const program_info& program) {
  auto opts = options();
  for (const auto& o : program.options)
    opts.push_back({o.name, o.value_hint, o.help,
                    [apply = o.apply](server_config&, const std::string& v) { apply(v); }});
  auto usage = [&] { return app::usage(program.name, opts); };
  server_config config;
  try {
    for (const auto& o : opts)
      if (const char* v = env(env_name(o.name).c_str())) {
        if (o.value_hint.empty() && std::string(v) != "1" && std::string(v) != "true") continue;
        o.apply(config, v);
      }
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string arg = args[i];
      if (arg == "--help" || arg == "-h") return {std::nullopt, 0, usage()};
      std::string value;
      bool inline_value = false;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        inline_value = true;
      }
      auto it = std::find_if(opts.begin(), opts.end(),
                             [&](const option& o) { return arg == "--" + o.name; });
      if (it == opts.end()) return {std::nullopt, 2, "unknown option " + arg + "\n\n" + usage()};
      if (!it->value_hint.empty() && !inline_value) {
        if (i + 1 >= args.size())
          return {std::nullopt, 2, arg + " needs a value (" + it->value_hint + ")\n"};
        value = args[++i];
      }
      it->apply(config, value);
    }
  } catch (const std::invalid_argument& e) {
    return {std::nullopt, 2, std::string(e.what()) + "\n"};
  }
  if (config.transport.tls_cert.empty() != config.transport.tls_key.empty())
    return {std::nullopt, 2, "--tls-cert and --tls-key go together\n"};
  if (auto error = cluster_error(config)) return {std::nullopt, 2, *error + "\n"};
  if (auto error = replication_error(config)) return {std::nullopt, 2, *error + "\n"};
  derive_defaults(config);
  return {config, 0, {}};
}

}  // namespace beryl::app
