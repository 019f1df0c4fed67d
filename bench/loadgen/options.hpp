// Command-line options of beryl-loadgen.
#pragma once

#include "ws_client.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct loadgen_options {
  std::string scenario;
  // --url, repeatable: several servers of one cluster, each connection on the next in turn.
  std::vector<std::string> urls;
  std::vector<ws_target> targets;  // derived from urls, each with its own source ports
  // --server-pid, repeatable: the servers whose RSS and CPU are measured (summed); none: not
  std::vector<pid_t> server_pids;
  std::size_t connections = 1000;   // connect: total; fanout: subscribers; echo, churn: clients
  std::vector<std::size_t> steps;   // connect: sizes at which to measure; default {connections}
  double rate = 100;                // fanout: messages/s; churn: joins/s (0: as fast as possible)
  double duration_s = 5;            // active phase of fanout, echo, churn, room probes
  std::string topic;                // churn, room: the topic (empty: the scenario's default)
  double dwell_ms = 0;              // churn: how long a client stays joined; room: each probe
  std::size_t per_process = 19000;  // connections per generator process (fd cap is 20,000)
  std::size_t max_in_flight = 256;  // concurrent handshakes per process
  // Local ports to connect from (see source_ports.hpp); below the kernel's ephemeral range.
  std::uint16_t source_port_first = 1024;
  std::uint16_t source_port_last = 32767;
  double timeout_s = 120;  // hard deadline for the whole scenario
  // capacity
  std::size_t step = 1000;
  std::size_t max_clients = 10000;
  std::size_t sample = 40;  // broadcasts per step
  std::size_t senders = 4;  // concurrent broadcasters, each waits for its broadcast to land
  double limit_ms = 250;
  double limit_percentile = 95;
  // room
  std::size_t probes = 0;      // connections that join and leave the full room at --rate joins/s
  std::size_t storms = 1;      // join storms, each on a fresh topic with fresh connections
  std::string baseline_topic;  // a storm on it before each storm (empty: none)
  // connect: shouts sent from the first connection once all joined, each awaited by all
  std::size_t broadcasts = 0;
  pid_t pause_pid = 0;  // heal: the server (of the last --url) to SIGSTOP and SIGCONT
};

// Parses argv; throws std::invalid_argument with a message for the user.
loadgen_options parse_options(int argc, char** argv);
std::string usage();

}  // namespace bench
