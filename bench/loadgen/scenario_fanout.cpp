// fanout: one publisher broadcasts `rate` messages/s for `duration` seconds to N subscribers of
// one topic. Every subscriber checks the sequence numbers it receives (lost, duplicated,
// out-of-order) and the latency from the publisher's send to its receipt. With several --url (a
// cluster) connection i goes to URL i mod count: the publisher is on the first, the subscribers
// spread evenly, so most deliveries cross nodes.
#include "clock.hpp"
#include "cpu_meter.hpp"
#include "pacer.hpp"
#include "scenarios.hpp"
#include "swarm.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <cmath>
#include <string>
#include <vector>

namespace bench {
namespace {

constexpr std::size_t publisher_index = 0;  // connection 0 publishes, 1..N subscribe
constexpr const char* bench_topic = "bench:fanout";
constexpr double stall_s = 3;

class fanout_scenario final : public swarm::sink {
 public:
  explicit fanout_scenario(const loadgen_options& o)
      : o_(o),
        subscribers_(o.connections),
        swarm_(io_, o.targets, *this, o.max_in_flight),
        meter_(o.server_pids),
        pacer_(
            io_, o.rate, o.duration_s, [this] { return publish(); }, [this] { drain(); }),
        planned_(pacer_.planned()),
        seen_((subscribers_ * (planned_ + 1) + 63) / 64, 0),
        highest_(subscribers_ + 1, 0),
        drain_timer_(io_) {}

  boost::json::object run() {
    swarm_.grow(subscribers_ + 1, {bench_topic, {}}, [this] { start(); });
    const bool timed_out = run_until_stopped(io_, o_.timeout_s);
    return result(timed_out);
  }

  void on_frame(phx_conn& conn, const phx_frame& frame) override {
    if (frame.event != "shout" || conn.index() == publisher_index) return;
    const auto seq = find_int(frame.payload, "seq");
    const auto sent = find_int(frame.payload, "t");
    if (!seq || !sent || *seq < 1 || static_cast<std::uint64_t>(*seq) > planned_) {
      ++malformed_;
      return;
    }
    const std::int64_t now = now_ns();
    const std::size_t sub = conn.index() - 1;
    const std::size_t bit = sub * (planned_ + 1) + static_cast<std::size_t>(*seq);
    std::uint64_t& word = seen_[bit / 64];
    const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
    ++deliveries_;
    last_receipt_ns_ = now;
    if (word & mask) {
      ++duplicated_;
      return;
    }
    word |= mask;
    ++unique_;
    auto& highest = highest_[conn.index()];
    if (static_cast<std::uint64_t>(*seq) < highest) ++out_of_order_;
    highest = std::max(highest, static_cast<std::uint64_t>(*seq));
    latency_.record(now - *sent);
    if (draining_ && unique_ == expected()) finish();
  }

 private:
  void start() {
    if (swarm_.failed() > 0) {
      spdlog::error("fanout: {} of {} connections failed to join: {}", swarm_.failed(),
                    subscribers_ + 1, swarm_.first_error());
      return io_.stop();
    }
    join_s_ = seconds_between(swarm_.grow_started_ns(), swarm_.grow_finished_ns());
    meter_.start();
    pacer_.start();
  }

  bool publish() {
    const std::uint64_t seq = pacer_.emitted() + 1;
    swarm_.at(publisher_index)
        .push(bench_topic, "shout",
              "{\"seq\":" + std::to_string(seq) + ",\"t\":" + std::to_string(now_ns()) + "}");
    return true;
  }

  std::uint64_t expected() const { return pacer_.emitted() * subscribers_; }

  // After the last send, wait for the stragglers while they keep coming: a server that falls
  // behind a high offered rate may take many seconds to work off its queues. What has not
  // arrived once deliveries stall is lost.
  void drain() {
    draining_ = true;
    if (unique_ == expected()) return finish();
    watch_drain(deliveries_);
  }

  void watch_drain(std::uint64_t deliveries_before) {
    drain_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(stall_s * 1000)));
    drain_timer_.async_wait([this, deliveries_before](boost::system::error_code ec) {
      if (ec) return;
      if (deliveries_ == deliveries_before) return finish();
      watch_drain(deliveries_);
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    meter_.stop();
    io_.stop();
  }

  boost::json::object result(bool timed_out) {
    if (!finished_) meter_.stop();
    // The pacer sends its first message at once and its n-th at (n - 1) / rate.
    const double send_s = seconds_between(pacer_.started_ns(), pacer_.finished_ns()) + 1 / o_.rate;
    const double receive_s = seconds_between(pacer_.started_ns(), last_receipt_ns_);
    return {
        {"subscribers", subscribers_},
        {"offered_rate", o_.rate},
        {"duration_s", o_.duration_s},
        {"joined", swarm_.joined()},
        {"join_failures", swarm_.failed()},
        {"join_s", join_s_},
        {"sent", pacer_.emitted()},
        {"achieved_rate", static_cast<double>(pacer_.emitted()) / send_s},
        {"expected_deliveries", expected()},
        {"deliveries", deliveries_},
        {"deliveries_per_s", receive_s > 0 ? static_cast<double>(deliveries_) / receive_s : 0.0},
        {"lost", expected() - unique_},
        {"duplicated", duplicated_},
        {"out_of_order", out_of_order_},
        {"malformed", malformed_},
        {"connections_lost", swarm_.lost()},
        {"latency", latency_.to_json()},
        {"cpu", meter_.to_json(static_cast<double>(deliveries_), 1)},
        {"timed_out", timed_out},
    };
  }

  const loadgen_options& o_;
  std::size_t subscribers_;
  boost::asio::io_context io_{one_thread};
  swarm swarm_;
  cpu_meter meter_;
  pacer pacer_;
  std::uint64_t planned_;
  std::vector<std::uint64_t> seen_;     // one bit per (subscriber, seq)
  std::vector<std::uint64_t> highest_;  // highest seq seen, per connection
  boost::asio::steady_timer drain_timer_;
  histogram latency_;
  double join_s_ = 0;
  std::uint64_t deliveries_ = 0;
  std::uint64_t unique_ = 0;
  std::uint64_t duplicated_ = 0;
  std::uint64_t out_of_order_ = 0;
  std::uint64_t malformed_ = 0;
  std::int64_t last_receipt_ns_ = 0;
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace

boost::json::object run_fanout(const loadgen_options& options) {
  return fanout_scenario(options).run();
}

}  // namespace bench
