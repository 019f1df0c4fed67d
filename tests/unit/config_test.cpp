#include "app/runtime/config.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>
#include <map>

using beryl::app::parse_config;

namespace {

auto env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("embedded defaults match the documented ones") {
  auto out = parse_config({}, env_of({}));
  REQUIRE(out.config);
  const auto& c = *out.config;
  CHECK(c.transport.host == "127.0.0.1");
  CHECK(c.transport.port == 4000);
  CHECK(c.transport.socket_path == "/socket/websocket");
  CHECK(c.transport.idle_timeout == std::chrono::milliseconds(60000));
  CHECK(c.transport.max_frame_size == 1048576);
  CHECK(c.transport.outbound_queue_limit == 1024);
  CHECK(c.transport.outbound_buffer_limit == 4194304);
  CHECK(c.transport.inbound_buffer_limit == 2097152);
  CHECK(c.transport.max_connections.per_address == 0);
  CHECK(c.transport.slow_consumer == beryl::slow_consumer_policy::disconnect);
  CHECK(c.transport.check_origin.allows("http://127.0.0.1:4000", "127.0.0.1:4000"));
  CHECK_FALSE(c.transport.check_origin.allows("http://evil.example", "127.0.0.1:4000"));
  CHECK_FALSE(c.transport.longpoll);
  CHECK(c.transport.tls_cert.empty());
  CHECK(c.transport.tls_key.empty());
  CHECK(c.sockets.max_channels == 100);
  CHECK_FALSE(c.sockets.message_rate.enabled());
  CHECK_FALSE(c.sockets.channel_rate.enabled());
  CHECK(c.io_threads >= 1);
  CHECK(c.actor_threads >= 1);
  CHECK(c.pubsub_shards == c.actor_threads);
  CHECK(c.presence_diff_interval == std::chrono::milliseconds(50));
  CHECK(c.presence_diff_max_interval == std::chrono::milliseconds(100));
  CHECK(c.drain.batch_size == 10000);
  CHECK(c.drain.batch_interval == std::chrono::milliseconds(2000));
  CHECK(c.drain.timeout == std::chrono::milliseconds(30000));
}

TEST_CASE("the drain's batch size, interval and timeout; a batch of 0 is refused") {
  auto out = parse_config({"--drain-batch-size", "50", "--drain-batch-interval-ms", "100"},
                          env_of({{"BERYL_DRAIN_TIMEOUT_MS", "0"}}));
  REQUIRE(out.config);
  CHECK(out.config->drain.batch_size == 50);
  CHECK(out.config->drain.batch_interval == std::chrono::milliseconds(100));
  CHECK(out.config->drain.timeout == std::chrono::milliseconds(0));
  CHECK(parse_config({"--drain-batch-size", "0"}, env_of({})).exit_code == 2);
}

TEST_CASE("TLS: --tls-cert and --tls-key, from the command line or BERYL_TLS_*, go together") {
  auto out = parse_config({"--tls-cert", "/etc/beryl/cert.pem"},
                          env_of({{"BERYL_TLS_KEY", "/etc/beryl/key.pem"}}));
  REQUIRE(out.config);
  CHECK(out.config->transport.tls_cert == "/etc/beryl/cert.pem");
  CHECK(out.config->transport.tls_key == "/etc/beryl/key.pem");
  auto alone = parse_config({"--tls-cert", "/etc/beryl/cert.pem"}, env_of({}));
  CHECK(alone.exit_code == 2);
  CHECK(alone.text == "--tls-cert and --tls-key go together\n");
  CHECK(parse_config({"--tls-key", "/etc/beryl/key.pem"}, env_of({})).exit_code == 2);
}

TEST_CASE("environment variables override defaults and the command line overrides both") {
  auto out = parse_config(
      {"--port", "4100", "--slow-consumer=drop", "--longpoll"},
      env_of({{"BERYL_PORT", "4200"}, {"BERYL_MAX_CHANNELS", "7"}, {"BERYL_HOST", "0.0.0.0"}}));
  REQUIRE(out.config);
  CHECK(out.config->transport.port == 4100);
  CHECK(out.config->transport.host == "0.0.0.0");
  CHECK(out.config->sockets.max_channels == 7);
  CHECK(out.config->transport.slow_consumer == beryl::slow_consumer_policy::drop);
  CHECK(out.config->transport.longpoll);
}

TEST_CASE("the connection cap defaults to the open-files limit minus a reserve") {
  rlimit files{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  auto out = parse_config({}, env_of({}));
  REQUIRE(out.config);
  if (files.rlim_cur > 512 && files.rlim_cur != RLIM_INFINITY)
    CHECK(out.config->transport.max_connections.total == files.rlim_cur - 256);
  auto given = parse_config({"--max-connections", "200", "--max-connections-per-ip=5"},
                            env_of({{"BERYL_INBOUND_BUFFER_LIMIT", "65536"}}));
  REQUIRE(given.config);
  CHECK(given.config->transport.max_connections.total == 200);
  CHECK(given.config->transport.max_connections.per_address == 5);
  CHECK(given.config->transport.inbound_buffer_limit == 65536);
}

TEST_CASE("--check-origin builds the origin policy") {
  auto out = parse_config({"--check-origin", "http://allowed.example"}, env_of({}));
  REQUIRE(out.config);
  CHECK(out.config->transport.check_origin.allows("http://allowed.example", "127.0.0.1:4000"));
  CHECK_FALSE(out.config->transport.check_origin.allows("http://evil.example", "127.0.0.1:4000"));
  auto off = parse_config({}, env_of({{"BERYL_CHECK_ORIGIN", "false"}}));
  REQUIRE(off.config);
  CHECK(off.config->transport.check_origin.allows("http://evil.example", "127.0.0.1:4000"));
}

TEST_CASE("--help lists every option and exits 0; mistakes exit 2 with a reason") {
  auto help = parse_config({"--help"}, env_of({}));
  CHECK_FALSE(help.config);
  CHECK(help.exit_code == 0);
  for (const char* option :
       {"--host", "--port", "--socket-path", "--idle-timeout-ms", "--max-frame-size",
        "--max-channels", "--outbound-queue-limit", "--slow-consumer", "--check-origin",
        "--longpoll", "--io-threads", "--actor-threads", "--log-level"})
    CHECK(help.text.find(option) != std::string::npos);

  auto unknown = parse_config({"--bogus"}, env_of({}));
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.text.find("unknown option --bogus") != std::string::npos);
  auto not_a_number = parse_config({"--port", "http"}, env_of({}));
  CHECK(not_a_number.exit_code == 2);
  CHECK(parse_config({"--port"}, env_of({})).exit_code == 2);
  CHECK(parse_config({"--slow-consumer", "maybe"}, env_of({})).exit_code == 2);
  CHECK(parse_config({"--socket-path", "no-slash"}, env_of({})).exit_code == 2);
  CHECK(parse_config({}, env_of({{"BERYL_PORT", "x"}})).exit_code == 2);
}

TEST_CASE("rate limits: per connection and per topic, each with its burst") {
  auto out = parse_config({"--message-rate", "50", "--channel-rate", "10", "--channel-burst", "3"},
                          env_of({{"BERYL_MESSAGE_BURST", "80"}}));
  REQUIRE(out.config);
  const auto& s = out.config->sockets;
  CHECK(s.message_rate.per_second == 50);
  CHECK(s.message_rate.burst == 80);
  CHECK(s.channel_rate.per_second == 10);
  CHECK(s.channel_rate.burst == 3);
  CHECK_FALSE(parse_config({"--message-rate", "-1"}, env_of({})).config);
}

TEST_CASE(
    "--max-presence-meta and BERYL_MAX_PRESENCE_META cap a tracked presence, 4096 bytes by "
    "default") {
  auto defaults = parse_config({}, env_of({}));
  REQUIRE(defaults.config);
  CHECK(defaults.config->sockets.max_presence_meta == 4096);
  auto from_env = parse_config({}, env_of({{"BERYL_MAX_PRESENCE_META", "512"}}));
  REQUIRE(from_env.config);
  CHECK(from_env.config->sockets.max_presence_meta == 512);
  auto from_flag =
      parse_config({"--max-presence-meta", "0"}, env_of({{"BERYL_MAX_PRESENCE_META", "512"}}));
  REQUIRE(from_flag.config);
  CHECK(from_flag.config->sockets.max_presence_meta == 0);
  CHECK(parse_config({"--max-presence-meta", "4k"}, env_of({})).exit_code == 2);
}

TEST_CASE("an embedding app's --help names it and lists its own options after the server's") {
  std::string greeting = "hello";
  bool loud = false;
  beryl::app::program_info program{
      "counter-server",
      {{"greeting", "TEXT", "what the counter says", [&](const std::string& v) { greeting = v; }},
       {"loud", "", "shout it", [&](const std::string&) { loud = true; }}}};

  auto help = parse_config({"--help"}, env_of({}), program);
  CHECK(help.exit_code == 0);
  CHECK(help.text.rfind("usage: counter-server [options]\n", 0) == 0);
  CHECK(help.text.find("beryl-server") == std::string::npos);
  CHECK(help.text.find("--static-dir") == std::string::npos);  // the demo's, not the runtime's
  CHECK(help.text.find("--port N") < help.text.find("--greeting TEXT"));
  CHECK(help.text.find("--greeting TEXT") < help.text.find("--loud "));

  auto out =
      parse_config({"--loud", "--port", "4100"}, env_of({{"BERYL_GREETING", "hi"}}), program);
  REQUIRE(out.config);
  CHECK(out.config->transport.port == 4100);
  CHECK(greeting == "hi");
  CHECK(loud);
  CHECK(parse_config({"--greeting=yo"}, env_of({{"BERYL_GREETING", "hi"}}), program).config);
  CHECK(greeting == "yo");  // the command line wins, as for the server's options
  CHECK(parse_config({"--greeting"}, env_of({}), program).exit_code == 2);
  CHECK(parse_config({"--greeting", "x"}, env_of({})).exit_code == 2);  // unknown to the server
}

TEST_CASE("cluster options: --node, --cluster-port, --cluster-bind, --cluster-advertise, --peers") {
  auto out = parse_config({"--node", "a", "--cluster-port", "5101", "--cluster-secret", "s",
                           "--peers", "127.0.0.1:5102, localhost:5103"},
                          env_of({{"BERYL_CLUSTER_BIND", "10.0.0.7"}}));
  REQUIRE(out.config);
  const auto& c = out.config->cluster;
  CHECK(out.config->clustered());
  CHECK(c.node == "a");
  CHECK(c.port == 5101);
  CHECK(c.bind == "10.0.0.7");
  CHECK(c.secret == "s");
  CHECK(c.seeds == std::vector<std::string>{"127.0.0.1:5102", "localhost:5103"});

  auto alone = parse_config({}, env_of({}));
  REQUIRE(alone.config);
  CHECK_FALSE(alone.config->clustered());
  CHECK(alone.config->cluster.bind == "127.0.0.1");
  // Peers are told --cluster-bind:--cluster-port, or --cluster-advertise when given.
  CHECK(c.address() == "10.0.0.7:5101");
  auto advertised =
      parse_config({"--node", "a", "--cluster-port", "5101", "--cluster-secret", "s",
                    "--cluster-bind", "0.0.0.0", "--cluster-advertise", "node-a.internal:15101"},
                   env_of({}));
  REQUIRE(advertised.config);
  CHECK(advertised.config->cluster.bind == "0.0.0.0");
  CHECK(advertised.config->cluster.address() == "node-a.internal:15101");

  // What is missing to cluster is said, with exit code 2.
  auto fails_with = [](std::vector<std::string> args, const std::string& why) {
    auto o = parse_config(args, env_of({}));
    CHECK_FALSE(o.config);
    CHECK(o.exit_code == 2);
    CHECK_MESSAGE(o.text.find(why) != std::string::npos, o.text);
  };
  fails_with({"--cluster-port", "5101", "--cluster-secret", "s"}, "--node");
  fails_with({"--cluster-port", "5101", "--node", "a"}, "--cluster-secret");
  fails_with({"--peers", "127.0.0.1:5102"}, "--cluster-port");
  fails_with({"--peers", "127.0.0.1"}, "HOST:PORT");
  fails_with({"--node", ""}, "--node needs a name");
  // A wildcard bind is no address to dial: the node must say where it is reached.
  fails_with({"--node", "a", "--cluster-port", "5101", "--cluster-secret", "s", "--cluster-bind",
              "0.0.0.0"},
             "--cluster-advertise");
  fails_with(
      {"--node", "a", "--cluster-port", "5101", "--cluster-secret", "s", "--cluster-bind", "::"},
      "--cluster-advertise");
  fails_with({"--cluster-advertise", "10.0.0.7"}, "HOST:PORT");
  // Replication's periods are checked with or without a cluster: every shard runs a replicator.
  fails_with({"--presence-broadcast-ms", "1000", "--presence-down-period-ms", "5000"},
             "down period must exceed 11 broadcast periods");
  auto fast = parse_config({"--presence-broadcast-ms", "100", "--presence-down-period-ms", "2000"},
                           env_of({}));
  REQUIRE(fast.config);
  CHECK(fast.config->presence_broadcast_interval == std::chrono::milliseconds(100));
  CHECK(fast.config->presence_down_period == std::chrono::milliseconds(2000));
}
