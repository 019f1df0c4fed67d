// churn: C clients join a presence topic, stay --dwell-ms, and leave, at an offered rate of
// joins/s (or as fast as they can), while an observer on the same topic timestamps every
// presence_diff. On a bench:* topic (no presence) it measures the yardstick join rate. The lag is
// the time from a client sending phx_join (or phx_leave) to the observer seeing its key in "joins"
// (or "leaves"). A server may batch diffs over an interval and drop a join and leave of the same
// key that fall into one batch: such a pair is counted as coalesced, not as lost. Seeing only one
// half of a pair is an error (the observer's presence list would go wrong).
#include "clock.hpp"
#include "cpu_meter.hpp"
#include "pacer.hpp"
#include "scenarios.hpp"
#include "swarm.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {
namespace {

constexpr std::size_t observer_index = 0;  // connection 0 observes, 1..C churn
constexpr const char* default_topic = "presence:churn";
// After the last leave, diffs still due arrive within a server's batching interval; once none
// came for this long, what is still unseen will not be.
constexpr std::int64_t diff_quiet_ns = 500'000'000;
constexpr int max_drain_polls = 50;  // of 100 ms

class churn_scenario final : public swarm::sink {
 public:
  explicit churn_scenario(const loadgen_options& o)
      : o_(o),
        swarm_(io_, o.targets, *this, o.max_in_flight),
        meter_(o.server_pids),
        topic_(o.topic.empty() ? default_topic : o.topic),
        clients_(o.connections + 1),
        timer_(io_) {
    for (auto& c : clients_) c.dwell = std::make_unique<boost::asio::steady_timer>(io_);
    if (o.rate > 0) {
      pacer_.emplace(
          io_, o.rate, o.duration_s, [this] { return join_next(); }, [this] { drain(); });
    }
  }

  boost::json::object run() {
    swarm_.grow(o_.connections + 1, {}, [this] { observe(); });
    const bool timed_out = run_until_stopped(io_, o_.timeout_s);
    return result(timed_out);
  }

  // A churner only reads replies: its presence_state and diffs are dropped unread.
  bool on_frame_start(phx_conn& conn, const phx_frame& head) override {
    return conn.index() != observer_index && head.event != "phx_reply";
  }

  void on_frame(phx_conn& conn, const phx_frame& frame) override {
    if (conn.index() == observer_index) return observer_frame(conn, frame);
    if (frame.event != "phx_reply") return;  // presence_state and diffs a churner sees
    client& c = clients_[conn.index()];
    const std::uint64_t ref = ref_number(frame.ref);
    if (c.stage == client_stage::joining && ref == c.ref) {
      if (find_string(frame.payload, "status") != std::string_view("ok")) {
        ++join_errors_;
        join_sent_.erase(c.name);
        return become_idle(conn.index());
      }
      ++joins_;
      join_latency_.record(now_ns() - c.sent_ns);
      c.stage = client_stage::leaving;
      if (o_.dwell_ms <= 0) return leave(conn.index());
      c.dwell->expires_after(std::chrono::microseconds(static_cast<long>(o_.dwell_ms * 1e3)));
      c.dwell->async_wait([this, index = conn.index()](boost::system::error_code ec) {
        if (!ec) leave(index);
      });
    } else if (c.stage == client_stage::leaving && ref == c.ref) {
      ++leaves_;
      become_idle(conn.index());
    }
  }

 private:
  enum class client_stage { idle, joining, leaving };
  struct client {
    std::unique_ptr<boost::asio::steady_timer> dwell;
    client_stage stage = client_stage::idle;
    std::uint64_t ref = 0;
    std::int64_t sent_ns = 0;
    std::uint64_t generation = 0;
    std::string name;
  };

  void leave(std::size_t index) {
    client& c = clients_[index];
    c.sent_ns = now_ns();
    leave_sent_[c.name] = c.sent_ns;
    c.ref = swarm_.at(index).leave(topic_);
  }

  void observe() {
    if (swarm_.failed() > 0) {
      spdlog::error("churn: {} connections failed: {}", swarm_.failed(), swarm_.first_error());
      return io_.stop();
    }
    swarm_.at(observer_index)
        .join(topic_, "{\"user\":\"observer-" + std::to_string(getpid()) + "\"}");
  }

  void observer_frame(phx_conn& conn, const phx_frame& frame) {
    if (frame.event == "phx_reply" && ref_number(frame.ref) == conn.join_ref() && !running_) {
      if (find_string(frame.payload, "status") != std::string_view("ok")) {
        spdlog::error("churn: observer join refused: {}", frame.payload);
        return io_.stop();
      }
      return start();
    }
    if (frame.event != "presence_diff" && frame.event != "presence_state") return;
    const std::int64_t now = now_ns();
    boost::system::error_code ec;
    const auto payload = boost::json::parse(frame.payload, ec);
    if (ec || !payload.is_object()) {
      ++malformed_diffs_;
      return;
    }
    if (frame.event == "presence_state") {
      // A server may fold the joins made before the observer's state into it: seen there.
      return settle(&payload, join_sent_, now);
    }
    ++diffs_;
    last_diff_ns_ = now;
    settle(payload.as_object().if_contains("joins"), join_sent_, now);
    settle(payload.as_object().if_contains("leaves"), leave_sent_, now);
  }

  // Settles every key of `keys` (a presence map) that a client is waiting to see.
  void settle(const boost::json::value* keys, std::unordered_map<std::string, std::int64_t>& sent,
              std::int64_t now) {
    if (!keys || !keys->is_object()) return;
    for (const auto& entry : keys->as_object()) {
      const auto it = sent.find(std::string(entry.key()));
      if (it == sent.end()) continue;
      lag_.record(now - it->second);
      sent.erase(it);
    }
  }

  void start() {
    running_ = true;
    for (std::size_t i = 1; i < clients_.size(); ++i) idle_.push_back(i);
    meter_.start();
    started_ns_ = now_ns();
    if (pacer_) {
      pacer_->start();
    } else {
      while (join_next()) {
      }
      after(timer_, o_.duration_s, [this] { drain(); });
    }
  }

  bool join_next() {
    if (idle_.empty() || !running_) return false;
    const std::size_t index = idle_.front();
    idle_.pop_front();
    client& c = clients_[index];
    c.name = "u" + std::to_string(getpid()) + "-" + std::to_string(index) + "-" +
             std::to_string(++c.generation);
    c.stage = client_stage::joining;
    c.sent_ns = now_ns();
    join_sent_[c.name] = c.sent_ns;
    c.ref = swarm_.at(index).join(topic_, "{\"user\":\"" + c.name + "\"}");
    return true;
  }

  void become_idle(std::size_t index) {
    clients_[index].stage = client_stage::idle;
    idle_.push_back(index);
    if (!pacer_ && running_) join_next();  // unpaced: rejoin at once
  }

  void drain() {
    running_ = false;
    const std::int64_t now = now_ns();
    active_s_ = seconds_between(started_ns_, now);
    poll_drain(now, 0);
  }

  // Finishes once every client is idle and every diff has arrived, or diffs stopped coming.
  void poll_drain(std::int64_t drain_started_ns, int polls) {
    const std::int64_t now = now_ns();
    const bool idle = idle_.size() == clients_.size() - 1;
    const bool seen_all = join_sent_.empty() && leave_sent_.empty();
    const bool quiet = now - std::max(last_diff_ns_, drain_started_ns) > diff_quiet_ns;
    if ((idle && (seen_all || quiet)) || polls >= max_drain_polls) return finish();
    after(timer_, 0.1,
          [this, drain_started_ns, polls] { poll_drain(drain_started_ns, polls + 1); });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (active_s_ == 0) active_s_ = seconds_between(started_ns_, now_ns());
    meter_.stop();
    io_.stop();
  }

  template <typename F>
  void after(boost::asio::steady_timer& timer, double seconds, F f) {
    timer.expires_after(std::chrono::microseconds(static_cast<long>(seconds * 1e6)));
    timer.async_wait([f](boost::system::error_code ec) {
      if (!ec) f();
    });
  }

  boost::json::object result(bool timed_out) {
    if (!finished_) meter_.stop();
    boost::json::object out{
        {"clients", o_.connections},
        {"topic", topic_},
        {"dwell_ms", o_.dwell_ms},
        {"connect_failures", swarm_.failed()},
        {"offered_rate", o_.rate},
        {"duration_s", active_s_},
        {"joins", joins_},
        {"leaves", leaves_},
        {"join_errors", join_errors_},
        {"joins_per_s", active_s_ > 0 ? static_cast<double>(joins_) / active_s_ : 0.0},
        {"join_latency", join_latency_.to_json()},
        {"presence_diffs", diffs_},
        {"malformed_diffs", malformed_diffs_},
        {"connections_lost", swarm_.lost()},
        {"cpu", meter_.to_json(static_cast<double>(joins_ + leaves_), 1)},
        {"timed_out", timed_out},
    };
    if (diffs_ == 0) {
      out["skipped"] = "server sends no presence_diff";
    } else {
      out["presence_lag"] = lag_.to_json();
      std::size_t coalesced = 0;
      for (const auto& entry : join_sent_) coalesced += leave_sent_.count(entry.first);
      out["coalesced_pairs"] = coalesced;
      out["missing_joins"] = join_sent_.size() - coalesced;    // its leave was seen
      out["missing_leaves"] = leave_sent_.size() - coalesced;  // its join was seen
    }
    return out;
  }

  const loadgen_options& o_;
  boost::asio::io_context io_{one_thread};
  swarm swarm_;
  cpu_meter meter_;
  std::string topic_;
  std::vector<client> clients_;
  std::deque<std::size_t> idle_;
  std::optional<pacer> pacer_;
  boost::asio::steady_timer timer_;
  std::unordered_map<std::string, std::int64_t> join_sent_;
  std::unordered_map<std::string, std::int64_t> leave_sent_;
  histogram join_latency_;
  histogram lag_;
  std::uint64_t joins_ = 0;
  std::uint64_t leaves_ = 0;
  std::uint64_t join_errors_ = 0;
  std::uint64_t diffs_ = 0;
  std::uint64_t malformed_diffs_ = 0;
  std::int64_t started_ns_ = 0;
  std::int64_t last_diff_ns_ = 0;
  double active_s_ = 0;
  bool running_ = false;
  bool finished_ = false;
};

}  // namespace

boost::json::object run_churn(const loadgen_options& options) {
  return churn_scenario(options).run();
}

}  // namespace bench
