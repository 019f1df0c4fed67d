// echo: C clients in a closed loop, each sending a ping and waiting for its reply before the
// next. Measures replies/s and the request-to-reply latency after a short warm-up.
#include "clock.hpp"
#include "cpu_meter.hpp"
#include "scenarios.hpp"
#include "swarm.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace bench {
namespace {

constexpr const char* bench_topic = "bench:echo";

class echo_scenario final : public swarm::sink {
 public:
  explicit echo_scenario(const loadgen_options& o)
      : o_(o),
        swarm_(io_, o.targets, *this, o.max_in_flight),
        meter_(o.server_pids),
        pending_(o.connections),
        timer_(io_) {}

  boost::json::object run() {
    swarm_.grow(o_.connections, {bench_topic, {}}, [this] { start(); });
    const bool timed_out = run_until_stopped(io_, o_.timeout_s);
    return result(timed_out);
  }

  void on_frame(phx_conn& conn, const phx_frame& frame) override {
    pending& p = pending_[conn.index()];
    if (frame.event != "phx_reply" || p.ref == 0 || ref_number(frame.ref) != p.ref) return;
    const std::int64_t now = now_ns();
    p.ref = 0;
    if (phase_ == phase::measuring) {
      latency_.record(now - p.sent_ns);
      ++replies_;
    }
    if (phase_ == phase::draining) {
      if (--outstanding_ == 0) finish();
      return;
    }
    send(conn);
  }

 private:
  enum class phase { warmup, measuring, draining };
  struct pending {
    std::uint64_t ref = 0;  // 0: nothing outstanding
    std::int64_t sent_ns = 0;
  };

  void start() {
    if (swarm_.failed() > 0) {
      spdlog::error("echo: {} connections failed to join: {}", swarm_.failed(),
                    swarm_.first_error());
      return io_.stop();
    }
    const double warmup_s = std::min(1.0, o_.duration_s / 5);
    for (std::size_t i = 0; i < swarm_.size(); ++i) send(swarm_.at(i));
    after(warmup_s, [this] {
      phase_ = phase::measuring;
      meter_.start();
      after(o_.duration_s, [this] { drain(); });
    });
  }

  void send(phx_conn& conn) {
    pending& p = pending_[conn.index()];
    p.sent_ns = now_ns();
    p.ref = conn.push(bench_topic, "ping", "{\"n\":1}");
  }

  void drain() {
    meter_.stop();
    measured_s_ = meter_.wall_s();
    phase_ = phase::draining;
    outstanding_ = static_cast<std::size_t>(std::count_if(
        pending_.begin(), pending_.end(), [](const pending& p) { return p.ref != 0; }));
    if (outstanding_ == 0) return finish();
    after(5, [this] { finish(); });
  }

  void finish() { io_.stop(); }

  template <typename F>
  void after(double seconds, F f) {
    timer_.expires_after(std::chrono::microseconds(static_cast<long>(seconds * 1e6)));
    timer_.async_wait([f](boost::system::error_code ec) {
      if (!ec) f();
    });
  }

  boost::json::object result(bool timed_out) {
    return {
        {"clients", o_.connections},
        {"joined", swarm_.joined()},
        {"join_failures", swarm_.failed()},
        {"duration_s", measured_s_},
        {"replies", replies_},
        {"replies_per_s", measured_s_ > 0 ? static_cast<double>(replies_) / measured_s_ : 0.0},
        {"unanswered", outstanding_},
        {"connections_lost", swarm_.lost()},
        {"latency", latency_.to_json()},
        {"cpu", meter_.to_json(static_cast<double>(replies_), 1)},
        {"timed_out", timed_out},
    };
  }

  const loadgen_options& o_;
  boost::asio::io_context io_{one_thread};
  swarm swarm_;
  cpu_meter meter_;
  std::vector<pending> pending_;
  boost::asio::steady_timer timer_;
  histogram latency_;
  phase phase_ = phase::warmup;
  std::uint64_t replies_ = 0;
  std::size_t outstanding_ = 0;
  double measured_s_ = 0;
};

}  // namespace

boost::json::object run_echo(const loadgen_options& options) {
  return echo_scenario(options).run();
}

}  // namespace bench
