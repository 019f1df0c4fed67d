#include "cpu_meter.hpp"

#include "clock.hpp"
#include "ws_client.hpp"

#include <algorithm>

namespace bench {
namespace {

// The servers' utime + stime summed; nullopt when there is none or one cannot be read.
std::optional<double> servers_cpu_seconds(const std::vector<pid_t>& pids) {
  if (pids.empty()) return std::nullopt;
  double sum = 0;
  for (const pid_t pid : pids) {
    const auto seconds = process_cpu_seconds(pid);
    if (!seconds) return std::nullopt;
    sum += *seconds;
  }
  return sum;
}

}  // namespace

void cpu_meter::start() {
  started_ns_ = now_ns();
  self_start_s_ = self_cpu_seconds();
  machine_start_ = machine_cpu();
  received_start_ = ws_bytes_received();
  server_start_s_ = servers_cpu_seconds(server_pids_);
}

void cpu_meter::stop() {
  stopped_ns_ = now_ns();
  self_stop_s_ = self_cpu_seconds();
  machine_stop_ = machine_cpu();
  received_stop_ = ws_bytes_received();
  server_stop_s_ = servers_cpu_seconds(server_pids_);
}

double cpu_meter::wall_s() const {
  return seconds_between(started_ns_, stopped_ns_);
}

boost::json::object cpu_meter::to_json(double messages, std::size_t generator_processes) const {
  const double wall = wall_s();
  const double generator = self_stop_s_ - self_start_s_ + worker_cpu_s_;
  boost::json::object out{
      {"wall_s", wall},
      {"messages", messages},
      {"generator_processes", generator_processes},
      {"generator_cpu_s", generator},
      // Of one core, averaged over the generator processes (each runs one thread).
      {"generator_cpu_pct_per_process",
       wall > 0 ? 100.0 * generator / wall / static_cast<double>(generator_processes) : 0.0},
      {"load_avg_1m", load_average_1m()},
  };
  if (server_start_s_ && server_stop_s_) {
    const double server = *server_stop_s_ - *server_start_s_;
    out["server_cpu_s"] = server;
    out["server_cpu_pct"] = wall > 0 ? 100.0 * server / wall : 0.0;  // of one core
    out["server_cpu_us_per_msg"] = messages > 0 ? 1e6 * server / messages : 0.0;
    // Whatever else ran on the machine meanwhile (a compiler, another benchmark) took CPU
    // from both sides: a figure measured next to it is not the server's own.
    const double others = machine_stop_.process_s - machine_start_.process_s - server - generator;
    const double softirq = machine_stop_.softirq_s - machine_start_.softirq_s;
    out["other_processes_cpu_pct"] = wall > 0 ? std::max(0.0, 100.0 * others / wall) : 0.0;
    out["softirq_cpu_pct"] = wall > 0 ? 100.0 * softirq / wall : 0.0;
  } else {
    out["server_cpu_s"] = nullptr;
  }
  // What the server sent this process: a presence join costs bytes in proportion to its room,
  // which the kernel copies on both sides of the loopback.
  out["received_bytes_per_msg"] =
      messages > 0 ? static_cast<double>(received_stop_ - received_start_) / messages : 0.0;
  return out;
}

}  // namespace bench
