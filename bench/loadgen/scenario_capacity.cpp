// capacity, in the style of the websocket-shootout benchmark: add clients a step at a time; at
// each step `senders` clients broadcast in a closed loop (the next broadcast leaves once the
// previous one reached every client) until `sample` broadcasts are done. The search ends when the
// chosen percentile of "sent by one, received by all" exceeds the limit; the capacity is the
// last client count that stayed under it.
#include "clock.hpp"
#include "cpu_meter.hpp"
#include "scenarios.hpp"
#include "swarm.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {
namespace {

constexpr const char* bench_topic = "bench:capacity";
constexpr double step_timeout_s = 20;

double percentile_ms(const std::vector<std::int64_t>& sorted, double pct) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(pct / 100 * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::max<std::size_t>(rank, 1) - 1]) / 1e6;
}

class capacity_scenario final : public swarm::sink {
 public:
  explicit capacity_scenario(const loadgen_options& o)
      : o_(o),
        max_clients_(std::min(o.max_clients, o.per_process)),
        swarm_(io_, o.targets, *this, o.max_in_flight),
        meter_(o.server_pids),
        step_timer_(io_) {}

  boost::json::object run() {
    grow();
    const bool timed_out = run_until_stopped(io_, o_.timeout_s);
    return result(timed_out);
  }

  void on_frame(phx_conn& /*conn*/, const phx_frame& frame) override {
    if (frame.event != "shout") return;
    const auto seq = find_int(frame.payload, "seq");
    if (!seq) return;
    const auto it = in_flight_.find(*seq);
    if (it == in_flight_.end()) return;  // a broadcast from a step that timed out
    pending_broadcast& b = it->second;
    if (++b.received < clients_) return;
    samples_.push_back(now_ns() - b.sent_ns);
    const std::size_t sender = b.sender;
    in_flight_.erase(it);
    if (samples_.size() == o_.sample) return end_step("");
    broadcast(sender);
  }

 private:
  struct pending_broadcast {
    std::int64_t sent_ns;
    std::size_t received;
    std::size_t sender;
  };

  void grow() {
    const std::size_t next = std::min(swarm_.size() + o_.step, max_clients_);
    swarm_.grow(next, {bench_topic, {}}, [this] { sample(); });
  }

  void sample() {
    if (swarm_.failed() > 0 || swarm_.lost() > 0) {
      stopped_because_ = "connections failed: " + swarm_.first_error();
      return io_.stop();
    }
    clients_ = swarm_.joined();
    sampling_ = true;
    samples_.clear();
    in_flight_.clear();
    issued_ = 0;
    meter_ = cpu_meter(o_.server_pids);
    meter_.start();
    for (std::size_t s = 0; s < std::min(o_.senders, clients_); ++s) broadcast(s);
    step_timer_.expires_after(std::chrono::seconds(static_cast<long>(step_timeout_s)));
    step_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) end_step("step timed out");
    });
  }

  void broadcast(std::size_t sender) {
    if (issued_ >= o_.sample) return;
    ++issued_;
    const std::int64_t seq = ++last_seq_;
    const std::int64_t now = now_ns();
    in_flight_[seq] = {now, 0, sender};
    swarm_.at(sender).push(
        bench_topic, "shout",
        "{\"seq\":" + std::to_string(seq) + ",\"t\":" + std::to_string(now) + "}");
  }

  void end_step(const std::string& problem) {
    if (!sampling_) return;  // the step timer and the last sample can race
    sampling_ = false;
    step_timer_.cancel();
    meter_.stop();
    std::sort(samples_.begin(), samples_.end());
    const std::size_t timeouts = o_.sample - samples_.size();
    const double limit_value =
        timeouts > 0 ? INFINITY : percentile_ms(samples_, o_.limit_percentile);
    const double deliveries = static_cast<double>(samples_.size() * clients_);
    steps_.push_back(boost::json::object{
        {"clients", clients_},
        {"broadcasts", samples_.size()},
        {"timeouts", timeouts},
        {"min_ms", samples_.empty() ? 0.0 : static_cast<double>(samples_.front()) / 1e6},
        {"p50_ms", percentile_ms(samples_, 50)},
        {"p95_ms", percentile_ms(samples_, 95)},
        {"p99_ms", percentile_ms(samples_, 99)},
        {"max_ms", samples_.empty() ? 0.0 : static_cast<double>(samples_.back()) / 1e6},
        {"deliveries_per_s", meter_.wall_s() > 0 ? deliveries / meter_.wall_s() : 0.0},
        {"cpu", meter_.to_json(deliveries, 1)},
    });
    last_cpu_ = meter_.to_json(deliveries, 1);
    if (!problem.empty() || limit_value > o_.limit_ms) {
      stopped_because_ = problem.empty()
                             ? "p" + std::to_string(static_cast<int>(o_.limit_percentile)) +
                                   " round trip over the limit"
                             : problem;
      return io_.stop();
    }
    capacity_ = clients_;
    if (swarm_.size() >= max_clients_) {
      stopped_because_ = "reached max clients";
      return io_.stop();
    }
    grow();
  }

  boost::json::object result(bool timed_out) {
    return {
        {"limit_ms", o_.limit_ms},
        {"limit_percentile", o_.limit_percentile},
        {"step", o_.step},
        {"max_clients", max_clients_},
        {"sample", o_.sample},
        {"senders", o_.senders},
        {"capacity", capacity_},
        {"stopped_because", timed_out ? std::string("scenario deadline") : stopped_because_},
        {"steps", steps_},
        {"cpu", last_cpu_},
        {"timed_out", timed_out},
    };
  }

  const loadgen_options& o_;
  std::size_t max_clients_;
  boost::asio::io_context io_{one_thread};
  swarm swarm_;
  cpu_meter meter_;
  boost::asio::steady_timer step_timer_;
  std::unordered_map<std::int64_t, pending_broadcast> in_flight_;
  std::vector<std::int64_t> samples_;
  boost::json::array steps_;
  boost::json::object last_cpu_;
  std::size_t clients_ = 0;
  std::size_t issued_ = 0;
  std::int64_t last_seq_ = 0;
  std::size_t capacity_ = 0;
  std::string stopped_because_;
  bool sampling_ = false;
};

}  // namespace

boost::json::object run_capacity(const loadgen_options& options) {
  return capacity_scenario(options).run();
}

}  // namespace bench
