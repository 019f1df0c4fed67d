// connect: grows to N idle joined connections, measuring at each step the server's RSS per
// connection (VmRSS minus the baseline before the first connection, divided by N), the join rate
// and the connect-to-joined latency. N is split over ceil(N / per-process) worker processes.
#include "clock.hpp"
#include "command_reader.hpp"
#include "cpu_meter.hpp"
#include "proc_stats.hpp"
#include "scenarios.hpp"
#include "swarm.hpp"
#include "worker_pool.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>

namespace bench {
namespace {

constexpr const char* bench_topic = "bench:connect";

std::size_t share(std::size_t total, std::size_t workers, std::size_t index) {
  return total / workers + (index < total % workers ? 1 : 0);
}

class ignore_frames final : public swarm::sink {
 public:
  void on_frame(phx_conn&, const phx_frame&) override {}
};

// The server's VmRSS, or NaN when it is not measured (no --server-pid).
double server_rss(pid_t pid) {
  return pid ? process_rss_bytes(pid).value_or(NAN) : NAN;
}

boost::json::value number_or_null(double v) {
  return std::isnan(v) ? boost::json::value(nullptr) : boost::json::value(v);
}

// Every worker gets the same target and its own slice of the source ports.
std::vector<std::vector<std::string>> worker_args(const loadgen_options& o, std::size_t processes) {
  std::vector<std::vector<std::string>> out;
  const std::size_t ports = o.source_port_last - o.source_port_first + 1u;
  for (std::size_t i = 0; i < processes; ++i) {
    const std::size_t first = o.source_port_first + i * ports / processes;
    const std::size_t last = o.source_port_first + (i + 1) * ports / processes - 1;
    out.push_back({"connect-worker", "--url", o.url, "--max-in-flight",
                   std::to_string(o.max_in_flight), "--timeout", std::to_string(o.timeout_s),
                   "--source-ports", std::to_string(first) + "-" + std::to_string(last)});
  }
  return out;
}

}  // namespace

boost::json::object run_connect(const loadgen_options& o) {
  const std::size_t total = o.steps.back();
  const std::size_t processes =
      std::max<std::size_t>(1, (total + o.per_process - 1) / o.per_process);
  const double baseline = server_rss(o.server_pid);

  worker_pool pool(worker_args(o, processes));
  boost::json::array steps;
  histogram latency;  // over all steps
  std::vector<double> worker_cpu(processes, 0.0);
  cpu_meter overall(o.server_pid);
  overall.start();
  double join_seconds = 0;
  std::size_t joined = 0;
  for (const std::size_t step : o.steps) {
    cpu_meter meter(o.server_pid);
    meter.start();
    for (std::size_t i = 0; i < processes; ++i) {
      pool.send(i, "grow " + std::to_string(share(step, processes, i)));
    }
    histogram step_latency;
    std::int64_t started = std::numeric_limits<std::int64_t>::max();
    std::int64_t finished = 0;
    std::size_t failed = 0;
    std::size_t lost = 0;
    const std::size_t joined_before = joined;
    joined = 0;
    for (std::size_t i = 0; i < processes; ++i) {
      const auto r = pool.receive(i);
      started = std::min(started, r.at("started_ns").to_number<std::int64_t>());
      finished = std::max(finished, r.at("finished_ns").to_number<std::int64_t>());
      joined += r.at("joined").to_number<std::size_t>();
      failed += r.at("failed").to_number<std::size_t>();
      lost += r.at("lost").to_number<std::size_t>();
      step_latency.merge(histogram::from_json(r.at("join_latency")));
      const double cpu = r.at("cpu_s").to_number<double>();
      meter.add_worker_cpu(cpu - worker_cpu[i]);
      worker_cpu[i] = cpu;
    }
    meter.stop();
    const double seconds = seconds_between(started, finished);
    join_seconds += seconds;
    const double rss = server_rss(o.server_pid);
    boost::json::object s{
        {"connections", joined},
        {"failed", failed},
        {"lost", lost},
        {"join_s", seconds},
        {"joins_per_s", seconds > 0 ? static_cast<double>(joined - joined_before) / seconds : 0.0},
        {"join_latency", step_latency.to_json()},
        {"rss_bytes", number_or_null(rss)},
        {"rss_per_connection_bytes", number_or_null(joined ? (rss - baseline) / joined : NAN)},
        {"cpu", meter.to_json(static_cast<double>(joined - joined_before), processes)},
    };
    spdlog::info("connect: {} joined, {} failed, {:.0f} joins/s", joined, failed,
                 s.at("joins_per_s").as_double());
    latency.merge(step_latency);
    steps.push_back(std::move(s));
    // Failures mean the server's limit is reached: bigger steps would only fail more.
    if (failed > 0 || lost > 0) break;
  }
  overall.stop();

  double cpu_total = 0;
  for (std::size_t i = 0; i < processes; ++i) {
    cpu_total += worker_cpu[i];
    pool.send(i, "finish");
  }
  std::size_t closed = 0;
  for (std::size_t i = 0; i < processes; ++i) {
    const auto final_report = pool.receive(i);
    closed += final_report.at("closed").to_number<std::size_t>();
  }
  pool.wait();
  overall.add_worker_cpu(cpu_total);

  const auto& final_step = steps.back().as_object();
  return {
      {"connections", total},
      {"processes", processes},
      {"joined", joined},
      {"closed", closed},
      {"rss_baseline_bytes", number_or_null(baseline)},
      {"rss_per_connection_bytes", final_step.at("rss_per_connection_bytes")},
      {"joins_per_s", join_seconds > 0 ? static_cast<double>(joined) / join_seconds : 0.0},
      {"join_latency", latency.to_json()},
      {"steps", std::move(steps)},
      {"cpu", overall.to_json(static_cast<double>(joined), processes)},
      {"timed_out", false},
  };
}

boost::json::object run_connect_worker(const loadgen_options& o) {
  boost::asio::io_context io{one_thread};
  ignore_frames ignored;
  swarm conns(io, o.target, ignored, o.max_in_flight);
  boost::asio::steady_timer close_timer(io);
  std::size_t closed = 0;
  command_reader commands(io, [&](const std::string& line) {
    if (line.rfind("grow ", 0) == 0) {
      conns.grow(std::stoul(line.substr(5)), {bench_topic, {}}, [&] {
        const boost::json::object report{
            {"joined", conns.joined()},
            {"failed", conns.failed()},
            {"lost", conns.lost()},
            {"started_ns", conns.grow_started_ns()},
            {"finished_ns", conns.grow_finished_ns()},
            {"cpu_s", self_cpu_seconds()},
            {"join_latency", conns.join_latency().to_json()},
        };
        std::cout << boost::json::serialize(report) << std::endl;
      });
      return;
    }
    // "finish": close politely, but give up on a server that does not answer.
    closed = conns.joined() - conns.lost();
    conns.close_all([&] { io.stop(); });
    close_timer.expires_after(std::chrono::seconds(15));
    close_timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      spdlog::warn("connect worker: closing handshakes unanswered after 15 s");
      io.stop();
    });
  });
  const bool timed_out = run_until_stopped(io, o.timeout_s);
  return {{"closed", closed}, {"cpu_s", self_cpu_seconds()}, {"timed_out", timed_out}};
}

}  // namespace bench
