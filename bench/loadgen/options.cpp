#include "options.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

namespace bench {
namespace {

std::size_t to_size(const std::string& s) {
  return static_cast<std::size_t>(std::stoull(s));
}

std::vector<std::size_t> to_sizes(const std::string& s) {
  std::vector<std::size_t> out;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(to_size(item));
  return out;
}

void parse_port_range(const std::string& s, loadgen_options& o) {
  const auto dash = s.find('-');
  if (dash == std::string::npos) throw std::invalid_argument("expected FIRST-LAST");
  const auto first = std::stoul(s.substr(0, dash));
  const auto last = std::stoul(s.substr(dash + 1));
  if (first == 0 || last > 65535 || first > last) throw std::invalid_argument("bad port range");
  o.source_port_first = static_cast<std::uint16_t>(first);
  o.source_port_last = static_cast<std::uint16_t>(last);
}

// The client side of wss://. The server's certificate is not checked: the target is loopback
// only, and the suite's server uses a certificate made for the run.
std::shared_ptr<boost::asio::ssl::context> client_tls_context() {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1);
  context->set_verify_mode(ssl::verify_none);
  return context;
}

// Accepts ws://HOST:PORT/PATH[?QUERY] (or wss://) where HOST is a loopback name: this tool must
// never load another machine.
ws_target parse_url(const std::string& url) {
  const bool tls = url.rfind("wss://", 0) == 0;
  const std::string scheme = tls ? "wss://" : "ws://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("--url must start with ws:// or wss://");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/socket/websocket" : rest.substr(slash);
  if (path.find('?') == std::string::npos) path += "?vsn=2.0.0";

  std::string host = authority;
  unsigned short port = tls ? 443 : 80;
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    host = authority.substr(0, colon);
    port = static_cast<unsigned short>(std::stoul(authority.substr(colon + 1)));
  }
  std::string address = host;
  if (host == "localhost") address = "127.0.0.1";
  if (address.size() > 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
  if (address != "127.0.0.1" && address != "::1") {
    throw std::invalid_argument("only 127.0.0.1, localhost or [::1] may be targeted, not " + host);
  }
  return {{boost::asio::ip::make_address(address), port},
          authority,
          path,
          nullptr,
          tls ? client_tls_context() : nullptr};
}

}  // namespace

std::string usage() {
  return R"(usage: beryl-loadgen SCENARIO [options]
Scenarios: connect, fanout, echo, churn, room, capacity, heal. Prints one JSON result on stdout.
  --url ws://127.0.0.1:4000/socket/websocket   server (loopback only; wss:// for TLS); repeat
                        it for the nodes of a cluster: connection i goes to URL i mod count
  --server-pid PID      measure the server's RSS and CPU through /proc/PID; repeat it for every
                        node of a cluster (their RSS and CPU are summed)
  --connections N       connect: total; fanout: subscribers; echo, churn: clients; room: members
  --steps A,B,C         connect: sizes at which to measure RSS and joins/s
  --rate R              fanout: messages/s offered; churn, room probes: joins/s (0 = unpaced)
  --duration S          active phase of fanout, echo, churn and room probes, in seconds
  --topic T             churn, room: the topic (default presence:churn, presence:big: presence
                        alone; room:* adds the demo chat; bench:* has no presence, the yardstick)
  --dwell-ms MS         churn: how long each client stays joined (default 0); room: each probe
  --probes N            room: connections that join and leave the full room, one at a time
  --storms K            room: join storms, each on a fresh topic and connections (default 1);
                        the median storm's figures, every storm's latencies
  --baseline-topic T    room: before each storm, one as big on T (a bench:* topic, no presence):
                        both see the machine as it is then; their ratio is reported
  --broadcasts K        connect: then K shouts from the first connection, one at a time, each
                        awaited by every connection (lost, duplicated, time to reach all)
  --pause-pid PID       heal: the server of the last --url, to SIGSTOP until the others see
                        its members leave, then SIGCONT (members on presence:heal; observers
                        time how long until every node shows every member again)
  --per-process N       connections per generator process (default 19000)
  --max-in-flight N     concurrent handshakes per process (default 256)
  --timeout S           hard deadline for the scenario (default 120)
  --source-ports A-B    local ports to connect from (default 1024-32767, split over processes)
  --step N --max-clients N --sample N --senders N --limit-ms MS --limit-percentile P
                        capacity: client step, ceiling, broadcasts per step, concurrent
                        broadcasters, and the round-trip limit that ends the search
)";
}

loadgen_options parse_options(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument(usage());
  loadgen_options o;
  o.scenario = argv[1];
  const std::map<std::string, std::function<void(const std::string&)>> setters = {
      {"--url", [&](const std::string& v) { o.urls.push_back(v); }},
      {"--server-pid", [&](const std::string& v) { o.server_pids.push_back(std::stoi(v)); }},
      {"--connections", [&](const std::string& v) { o.connections = to_size(v); }},
      {"--steps", [&](const std::string& v) { o.steps = to_sizes(v); }},
      {"--rate", [&](const std::string& v) { o.rate = std::stod(v); }},
      {"--duration", [&](const std::string& v) { o.duration_s = std::stod(v); }},
      {"--topic", [&](const std::string& v) { o.topic = v; }},
      {"--dwell-ms", [&](const std::string& v) { o.dwell_ms = std::stod(v); }},
      {"--probes", [&](const std::string& v) { o.probes = to_size(v); }},
      {"--storms", [&](const std::string& v) { o.storms = std::max<std::size_t>(1, to_size(v)); }},
      {"--baseline-topic", [&](const std::string& v) { o.baseline_topic = v; }},
      {"--broadcasts", [&](const std::string& v) { o.broadcasts = to_size(v); }},
      {"--pause-pid", [&](const std::string& v) { o.pause_pid = std::stoi(v); }},
      {"--per-process", [&](const std::string& v) { o.per_process = to_size(v); }},
      {"--max-in-flight", [&](const std::string& v) { o.max_in_flight = to_size(v); }},
      {"--timeout", [&](const std::string& v) { o.timeout_s = std::stod(v); }},
      {"--source-ports", [&](const std::string& v) { parse_port_range(v, o); }},
      {"--step", [&](const std::string& v) { o.step = to_size(v); }},
      {"--max-clients", [&](const std::string& v) { o.max_clients = to_size(v); }},
      {"--sample", [&](const std::string& v) { o.sample = to_size(v); }},
      {"--senders", [&](const std::string& v) { o.senders = to_size(v); }},
      {"--limit-ms", [&](const std::string& v) { o.limit_ms = std::stod(v); }},
      {"--limit-percentile", [&](const std::string& v) { o.limit_percentile = std::stod(v); }},
  };
  for (int i = 2; i < argc; i += 2) {
    const auto it = setters.find(argv[i]);
    if (it == setters.end()) throw std::invalid_argument(std::string("unknown option ") + argv[i]);
    if (i + 1 >= argc) throw std::invalid_argument(std::string("missing value for ") + argv[i]);
    try {
      it->second(argv[i + 1]);
    } catch (const std::exception&) {
      throw std::invalid_argument(std::string("bad value for ") + argv[i] + ": " + argv[i + 1]);
    }
  }
  if (o.urls.empty()) o.urls = {"ws://127.0.0.1:4000/socket/websocket"};
  for (const auto& url : o.urls) {
    o.targets.push_back(parse_url(url));
    // A range per server: a local port may serve one connection to each of them.
    o.targets.back().source_ports =
        std::make_shared<source_port_range>(o.source_port_first, o.source_port_last);
  }
  if (o.steps.empty()) o.steps = {o.connections};
  std::sort(o.steps.begin(), o.steps.end());
  if (o.per_process == 0 || o.max_in_flight == 0 || o.senders == 0 || o.step == 0) {
    throw std::invalid_argument("--per-process, --max-in-flight, --senders, --step must be > 0");
  }
  if (o.scenario == "fanout" && o.rate <= 0) throw std::invalid_argument("fanout needs --rate > 0");
  if (o.scenario == "heal" && (o.pause_pid <= 0 || o.urls.size() < 2)) {
    throw std::invalid_argument("heal needs --pause-pid and at least two --url");
  }
  return o;
}

}  // namespace bench
