// connect: grows to N idle joined connections, measuring at each step the server's RSS per
// connection (VmRSS minus the baseline before the first connection, divided by N), the join rate
// and the connect-to-joined latency. N is split over ceil(N / per-process) worker processes.
// With several --url (a cluster) each worker spreads its connections over them and RSS is summed
// over the --server-pids; with --broadcasts K the first connection then shouts K times, one at a
// time, and every connection must receive every shout (the publisher's included).
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
#include <functional>
#include <iostream>
#include <limits>
#include <map>

namespace bench {
namespace {

constexpr const char* bench_topic = "bench:connect";
// A worker answers an await once every connection has the shout, or nothing came for this long.
constexpr auto broadcast_stall = std::chrono::seconds(3);

std::size_t share(std::size_t total, std::size_t workers, std::size_t index) {
  return total / workers + (index < total % workers ? 1 : 0);
}

// A worker's receipts of the coordinator's shouts: per shout, how many of its connections have
// it and when the last one got it; per connection, the last shout it got.
class shout_tally final : public swarm::sink {
 public:
  struct shout {
    std::size_t received = 0;
    std::int64_t sent_ns = 0;  // the publisher's timestamp in the payload
    std::int64_t last_ns = 0;
  };

  void on_frame(phx_conn& conn, const phx_frame& frame) override {
    if (frame.event != "shout") return;
    const auto seq = find_int(frame.payload, "seq");
    const auto sent = find_int(frame.payload, "t");
    if (!seq || !sent || *seq < 1) return;
    if (last_seq_.size() <= conn.index()) last_seq_.resize(conn.index() + 1, 0);
    auto& last = last_seq_[conn.index()];
    if (*seq <= last) {
      ++(*seq == last ? duplicated_ : out_of_order_);
      return;
    }
    last = *seq;
    auto& s = shouts_[*seq];
    ++s.received;
    s.sent_ns = *sent;
    s.last_ns = now_ns();
  }

  // An empty tally for a shout that no connection of this worker got yet.
  const shout& of(std::int64_t seq) { return shouts_[seq]; }
  std::uint64_t duplicated() const { return duplicated_; }
  std::uint64_t out_of_order() const { return out_of_order_; }

 private:
  std::map<std::int64_t, shout> shouts_;
  std::vector<std::int64_t> last_seq_;
  std::uint64_t duplicated_ = 0;
  std::uint64_t out_of_order_ = 0;
};

// The servers' VmRSS summed, or NaN when it is not measured (no --server-pid).
double server_rss(const std::vector<pid_t>& pids) {
  if (pids.empty()) return NAN;
  double sum = 0;
  for (const pid_t pid : pids) sum += process_rss_bytes(pid).value_or(NAN);
  return sum;
}

boost::json::value number_or_null(double v) {
  return std::isnan(v) ? boost::json::value(nullptr) : boost::json::value(v);
}

// Every worker gets the same targets and its own slice of the source ports.
std::vector<std::vector<std::string>> worker_args(const loadgen_options& o, std::size_t processes) {
  std::vector<std::vector<std::string>> out;
  const std::size_t ports = o.source_port_last - o.source_port_first + 1u;
  for (std::size_t i = 0; i < processes; ++i) {
    const std::size_t first = o.source_port_first + i * ports / processes;
    const std::size_t last = o.source_port_first + (i + 1) * ports / processes - 1;
    std::vector<std::string> args{"connect-worker"};
    for (const auto& url : o.urls) args.insert(args.end(), {"--url", url});
    args.insert(args.end(), {"--max-in-flight", std::to_string(o.max_in_flight), "--timeout",
                             std::to_string(o.timeout_s), "--source-ports",
                             std::to_string(first) + "-" + std::to_string(last)});
    out.push_back(std::move(args));
  }
  return out;
}

// Shouts `count` times from worker 0's first connection, one shout at a time, and gathers every
// worker's receipts. Lost = joined connections that never got a shout.
boost::json::object broadcast(worker_pool& pool, std::size_t count, std::size_t recipients) {
  std::size_t lost = 0;
  double reach_max = 0;
  boost::json::array reach;
  for (std::size_t seq = 1; seq <= count; ++seq) {
    pool.send(0, "publish " + std::to_string(seq));
    for (std::size_t i = 0; i < pool.size(); ++i) pool.send(i, "await " + std::to_string(seq));
    std::size_t received = 0;
    std::int64_t sent = 0;
    std::int64_t last = 0;
    for (std::size_t i = 0; i < pool.size(); ++i) {
      const auto r = pool.receive(i);
      received += r.at("received").to_number<std::size_t>();
      sent = std::max(sent, r.at("sent_ns").to_number<std::int64_t>());
      last = std::max(last, r.at("last_ns").to_number<std::int64_t>());
    }
    lost += recipients - std::min(recipients, received);
    const double seconds = received ? seconds_between(sent, last) : NAN;
    spdlog::info("connect: shout {} reached {} of {} in {:.3f} s", seq, received, recipients,
                 seconds);
    reach.push_back(number_or_null(seconds));
    reach_max = std::max(reach_max, received ? seconds : 0.0);
  }
  return {{"count", count},
          {"recipients", recipients},
          {"lost", lost},
          {"reach_s", std::move(reach)},
          {"reach_max_s", reach_max}};
}

}  // namespace

boost::json::object run_connect(const loadgen_options& o) {
  const std::size_t total = o.steps.back();
  const std::size_t processes =
      std::max<std::size_t>(1, (total + o.per_process - 1) / o.per_process);
  const double baseline = server_rss(o.server_pids);

  worker_pool pool(worker_args(o, processes));
  boost::json::array steps;
  histogram latency;  // over all steps
  std::vector<double> worker_cpu(processes, 0.0);
  cpu_meter overall(o.server_pids);
  overall.start();
  double join_seconds = 0;
  std::size_t joined = 0;
  for (const std::size_t step : o.steps) {
    cpu_meter meter(o.server_pids);
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
    const double rss = server_rss(o.server_pids);
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

  boost::json::object shouts;
  if (o.broadcasts > 0) shouts = broadcast(pool, o.broadcasts, joined);

  double cpu_total = 0;
  for (std::size_t i = 0; i < processes; ++i) {
    cpu_total += worker_cpu[i];
    pool.send(i, "finish");
  }
  std::size_t closed = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t out_of_order = 0;
  for (std::size_t i = 0; i < processes; ++i) {
    const auto final_report = pool.receive(i);
    closed += final_report.at("closed").to_number<std::size_t>();
    duplicated += final_report.at("duplicated").to_number<std::uint64_t>();
    out_of_order += final_report.at("out_of_order").to_number<std::uint64_t>();
  }
  pool.wait();
  overall.add_worker_cpu(cpu_total);
  if (o.broadcasts > 0) {
    shouts["duplicated"] = duplicated;
    shouts["out_of_order"] = out_of_order;
  }

  const auto& final_step = steps.back().as_object();
  boost::json::object result{
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
  if (o.broadcasts > 0) result["broadcast"] = std::move(shouts);
  return result;
}

boost::json::object run_connect_worker(const loadgen_options& o) {
  boost::asio::io_context io{one_thread};
  shout_tally tally;
  swarm conns(io, o.targets, tally, o.max_in_flight);
  boost::asio::steady_timer close_timer(io);
  boost::asio::steady_timer await_timer(io);
  std::size_t closed = 0;

  // Answers once every open connection has shout `seq`, or it stopped coming in.
  std::function<void(std::int64_t, std::int64_t)> await = [&](std::int64_t seq,
                                                              std::int64_t since_ns) {
    const auto& s = tally.of(seq);
    const bool all = s.received >= conns.joined() - conns.lost();
    const std::int64_t quiet_ns = now_ns() - std::max(since_ns, s.last_ns);
    if (all || quiet_ns > std::chrono::nanoseconds(broadcast_stall).count()) {
      const boost::json::object report{
          {"received", s.received}, {"sent_ns", s.sent_ns}, {"last_ns", s.last_ns}};
      std::cout << boost::json::serialize(report) << std::endl;
      return;
    }
    await_timer.expires_after(std::chrono::milliseconds(10));
    await_timer.async_wait([&, seq, since_ns](boost::system::error_code ec) {
      if (!ec) await(seq, since_ns);
    });
  };

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
    if (line.rfind("publish ", 0) == 0) {
      conns.at(0).push(bench_topic, "shout",
                       "{\"seq\":" + line.substr(8) + ",\"t\":" + std::to_string(now_ns()) + "}");
      return;
    }
    if (line.rfind("await ", 0) == 0) return await(std::stoll(line.substr(6)), now_ns());
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
  return {{"closed", closed},
          {"duplicated", tally.duplicated()},
          {"out_of_order", tally.out_of_order()},
          {"cpu_s", self_cpu_seconds()},
          {"timed_out", timed_out}};
}

}  // namespace bench
