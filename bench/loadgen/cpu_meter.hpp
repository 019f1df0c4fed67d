// CPU used by the server and by the generator over one measured phase, so every result can say
// how the two cores were split and what one message cost the server, in CPU and in bytes sent.
#pragma once

#include "proc_stats.hpp"

#include <boost/json/object.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace bench {

class cpu_meter {
 public:
  // The servers' CPU is summed (the nodes of a cluster); none: it is not measured.
  explicit cpu_meter(std::vector<pid_t> server_pids) : server_pids_(std::move(server_pids)) {}

  void start();
  void stop();
  // CPU seconds of generator processes other than this one (multi-process scenarios).
  void add_worker_cpu(double seconds) { worker_cpu_s_ += seconds; }
  double wall_s() const;

  // `messages` is what the scenario counts as one unit of server work (delivery, reply, join).
  boost::json::object to_json(double messages, std::size_t generator_processes) const;

 private:
  std::vector<pid_t> server_pids_;
  std::int64_t started_ns_ = 0;
  std::int64_t stopped_ns_ = 0;
  std::optional<double> server_start_s_;
  std::optional<double> server_stop_s_;
  std::uint64_t received_start_ = 0;  // frame bytes the generator received
  std::uint64_t received_stop_ = 0;
  machine_cpu_time machine_start_;
  machine_cpu_time machine_stop_;
  double self_start_s_ = 0;
  double self_stop_s_ = 0;
  double worker_cpu_s_ = 0;
};

}  // namespace bench
