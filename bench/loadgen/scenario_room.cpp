// room: one big room. First a join storm: N members connect and join the topic at once (at most
// --max-in-flight handshakes in flight), measuring joins/s (to the last join reply) and
// connect-to-joined latency. On a presence topic a member also waits for its presence_state (who
// is there): the storm goes on until the last one arrives, and reports ready/s (members with their
// state per second) and connect-to-state latency beside joins/s. Then,
// with --probes P, probe clients join the full room at --rate joins/s, stay --dwell-ms and leave:
// each probe join's latency, and its reach, the time from sending phx_join until the last member
// has a presence_diff listing the probe. With --storms K, K storms run one after another, each on
// a fresh topic with fresh connections, and the median one counts. On a bench:* topic (no
// presence) only the storm counts: the yardstick. With --baseline-topic B, a storm on B (a bench:*
// topic) runs before each storm on the topic: a slow moment of the machine slows both, so their
// ratio is the presence's cost rather than the moment's.
#include "clock.hpp"
#include "cpu_meter.hpp"
#include "pacer.hpp"
#include "scenarios.hpp"
#include "swarm.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {
namespace {

constexpr const char* default_topic = "presence:big";
constexpr std::string_view probe_prefix = "\"probe-";
// Once no probe has been seen by a member for this long after the last leave, what is unseen
// will not be.
constexpr std::int64_t reach_quiet_ns = 1'000'000'000;
constexpr int max_drain_polls = 50;  // of 100 ms

class room_scenario final : public swarm::sink {
 public:
  explicit room_scenario(const loadgen_options& o)
      : o_(o),
        base_topic_(o.topic.empty() ? default_topic : o.topic),
        storm_meter_(o.server_pids),
        probe_meter_(o.server_pids),
        timer_(io_) {}

  boost::json::object run() {
    start_storm();
    const bool timed_out = run_until_stopped(io_, o_.timeout_s);
    return result(timed_out);
  }

  // In the storm a member only counts its presence_state: big presence frames are dropped unread
  // then. Once probes run, members read every diff for the probes' keys.
  bool on_frame_start(phx_conn& conn, const phx_frame& head) override {
    if (conn.index() >= o_.connections || !probes_.empty()) return false;
    if (head.event != "presence_state" && head.event != "presence_diff") return false;
    on_frame(conn, head);
    return true;
  }

  void on_frame(phx_conn& conn, const phx_frame& frame) override {
    if (conn.index() >= o_.connections) return probe_frame(conn, frame);
    if (frame.event == "presence_diff") {
      // During the storm there is no probe to look for: skip the search for "leaves".
      if (!probes_.empty())
        member_saw_probes(frame.payload.substr(0, frame.payload.find("\"leaves\"")));
    } else if (frame.event == "presence_state") {
      // A member whose state is still due gets no diff of what the state will hold.
      member_saw_probes(frame.payload);
      if (!storm_running_) return;
      state_latency_.record(now_ns() - swarm_->started_ns(conn.index()));
      last_state_ns_ = now_ns();
      if (++member_states_ == o_.connections) end_storm_when_complete();
    }
  }

 private:
  struct probe {
    std::size_t conn = 0;
    std::int64_t join_sent_ns = 0;
    std::size_t seen_by = 0;  // members whose diffs listed its join
    std::int64_t last_seen_ns = 0;
    std::uint64_t join_ref = 0;
    bool joined = false;
  };

  struct storm_figures {
    double seconds = 0;        // to the last join reply
    double ready_seconds = 0;  // to the last presence_state
    std::size_t joined = 0;
    double join_p99_ms = 0;
    boost::json::object cpu;
    double joins_per_s() const { return seconds > 0 ? static_cast<double>(joined) / seconds : 0; }
    double ready_per_s() const {
      return ready_seconds > 0 ? static_cast<double>(joined) / ready_seconds : 0;
    }
  };

  // Each storm on a topic and connections of its own: a storm of a fraction of a second is
  // noisy, so several give a median. A baseline storm goes first, so the last storm's members
  // are on the topic for the probes.
  void start_storm() {
    const auto& base = in_baseline() ? o_.baseline_topic : base_topic_;
    const auto number = (in_baseline() ? baseline_storms_ : storms_).size() + 1;
    topic_ = o_.storms > 1 ? base + "-" + std::to_string(number) : base;
    member_states_ = 0;
    last_state_ns_ = 0;
    all_joined_ = false;
    storm_running_ = true;
    swarm_ = std::make_unique<swarm>(io_, o_.targets, *this, o_.max_in_flight);
    storm_meter_.start();
    swarm::join_spec members{
        topic_, [](std::size_t i) { return "{\"user\":\"m" + std::to_string(i) + "\"}"; }};
    swarm_->grow(o_.connections, members, [this] {
      all_joined_ = true;
      end_storm_when_complete();
    });
  }

  // The storm under way is on the baseline topic: it runs first, so it is the baseline's turn
  // while both have had as many storms (a storm is counted when it ends).
  bool in_baseline() const {
    return !o_.baseline_topic.empty() && baseline_storms_.size() == storms_.size();
  }

  static bool has_presence(std::string_view topic) { return topic.rfind("bench:", 0) != 0; }

  // Every member joined and, on a presence topic, has its presence_state (a failed join ends the
  // storm at once: its state will never come).
  void end_storm_when_complete() {
    if (!all_joined_) return;
    if (has_presence(topic_) && swarm_->failed() == 0 && member_states_ < o_.connections) return;
    storm_running_ = false;
    storm_meter_.stop();
    const bool baseline = in_baseline();  // before the storm is counted
    auto& figures = (baseline ? baseline_storms_ : storms_).emplace_back();
    figures.seconds = seconds_between(swarm_->grow_started_ns(), swarm_->grow_finished_ns());
    if (has_presence(topic_))
      figures.ready_seconds = seconds_between(swarm_->grow_started_ns(), last_state_ns_);
    figures.joined = swarm_->joined();
    figures.cpu = storm_meter_.to_json(static_cast<double>(figures.joined), 1);
    figures.join_p99_ms = static_cast<double>(swarm_->join_latency().percentile(99)) / 1e6;
    // The next grow() starts its own.
    (baseline ? baseline_latency_ : storm_latency_).merge(swarm_->join_latency());
    if (swarm_->failed() > 0) {
      spdlog::error("room: {} members failed: {}", swarm_->failed(), swarm_->first_error());
      return io_.stop();
    }
    if (storms_.size() < o_.storms) {
      // The members leave; the next storm starts once the server had a second to settle.
      return swarm_->close_all([this] {
        timer_.expires_after(std::chrono::seconds(1));
        timer_.async_wait([this](boost::system::error_code ec) {
          if (!ec) start_storm();
        });
      });
    }
    if (o_.probes == 0) return io_.stop();
    // Probe connections, not joined yet: every member has its presence_state already.
    swarm_->grow(o_.connections + o_.probes, {}, [this] { start_probes(); });
  }

  void start_probes() {
    for (std::size_t i = o_.connections; i < swarm_->size(); ++i) idle_.push_back(i);
    probe_meter_.start();
    pacer_.emplace(
        io_, o_.rate, o_.duration_s, [this] { return join_next(); }, [this] { drain(0); });
    pacer_->start();
  }

  bool join_next() {
    if (idle_.empty()) return false;
    const std::size_t conn = idle_.front();
    idle_.pop_front();
    auto& p = probes_.emplace_back();
    p.conn = conn;
    p.join_sent_ns = now_ns();
    const auto id = probes_.size() - 1;
    active_[conn] = id;
    p.join_ref = swarm_->at(conn).join(topic_, "{\"user\":\"probe-" + std::to_string(id) + "\"}");
    return true;
  }

  void probe_frame(phx_conn& conn, const phx_frame& frame) {
    if (frame.event != "phx_reply") return;
    auto it = active_.find(conn.index());
    if (it == active_.end()) return;
    auto& p = probes_[it->second];
    const auto ref = ref_number(frame.ref);
    if (!p.joined && ref == p.join_ref) {
      if (find_string(frame.payload, "status") != std::string_view("ok")) {
        ++join_errors_;
        return release(conn.index());
      }
      p.joined = true;
      probe_join_latency_.record(now_ns() - p.join_sent_ns);
      auto timer = std::make_shared<boost::asio::steady_timer>(io_);
      timer->expires_after(std::chrono::microseconds(static_cast<long>(o_.dwell_ms * 1e3)));
      timer->async_wait([this, timer, index = conn.index()](boost::system::error_code ec) {
        if (!ec) leave_sent_[index] = swarm_->at(index).leave(topic_);
      });
    } else if (p.joined) {
      auto sent = leave_sent_.find(conn.index());
      if (sent != leave_sent_.end() && sent->second == ref) {
        leave_sent_.erase(sent);
        release(conn.index());
      }
    }
  }

  void release(std::size_t conn) {
    active_.erase(conn);
    idle_.push_back(conn);
  }

  // Every "probe-<id>" key in what a member was told of joins: a diff's joins, or its
  // presence_state (keys of members and probes need no escaping; metas never hold the prefix).
  void member_saw_probes(std::string_view joins) {
    if (probes_.empty()) return;  // the storm: nothing to look for in its states and diffs
    const std::int64_t now = now_ns();
    for (auto at = joins.find(probe_prefix); at != std::string_view::npos;
         at = joins.find(probe_prefix, at + 1)) {
      const char* first = joins.data() + at + probe_prefix.size();
      std::size_t id = 0;
      auto [end, ec] = std::from_chars(first, joins.data() + joins.size(), id);
      if (ec != std::errc() || end == joins.data() + joins.size() || *end != '"' ||
          id >= probes_.size())
        continue;
      auto& p = probes_[id];
      ++p.seen_by;
      p.last_seen_ns = now;
      last_reach_ns_ = now;
    }
  }

  // Ends once every probe left and every join reached every member, or nothing came for a while.
  void drain(int polls) {
    if (polls == 0) {
      probes_s_ = seconds_between(pacer_->started_ns(), now_ns());
      drain_started_ns_ = now_ns();
    }
    const bool idle = active_.empty();
    bool reached = true;
    for (const auto& p : probes_) reached = reached && p.seen_by >= o_.connections;
    const bool quiet = now_ns() - std::max(last_reach_ns_, drain_started_ns_) > reach_quiet_ns;
    if ((idle && (reached || quiet)) || polls >= max_drain_polls) {
      probe_meter_.stop();
      return io_.stop();
    }
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([this, polls](boost::system::error_code ec) {
      if (!ec) drain(polls + 1);
    });
  }

  // The storm with the median rate (the lower of the two middle ones for an even count).
  static const storm_figures& median_storm(const std::vector<storm_figures>& storms) {
    static const storm_figures none;
    if (storms.empty()) return none;
    std::vector<const storm_figures*> sorted;
    for (const auto& s : storms) sorted.push_back(&s);
    std::sort(sorted.begin(), sorted.end(),
              [](auto* a, auto* b) { return a->joins_per_s() < b->joins_per_s(); });
    return *sorted[(sorted.size() - 1) / 2];
  }

  // The median storm's figures, every storm's rate and p99, and all storms' join latencies.
  boost::json::object storm_json(const std::vector<storm_figures>& storms,
                                 const histogram& latency) const {
    const auto& median = median_storm(storms);
    boost::json::array rates;
    boost::json::array p99s;
    for (const auto& s : storms) {
      rates.push_back(s.joins_per_s());
      p99s.push_back(s.join_p99_ms);
    }
    return {
        {"members", o_.connections},
        {"joined", median.joined},
        {"duration_s", median.seconds},
        {"joins_per_s", median.joins_per_s()},
        {"storms_joins_per_s", std::move(rates)},
        {"storms_join_p99_ms", std::move(p99s)},
        {"join_latency", latency.to_json()},
        {"cpu", median.cpu},
    };
  }

  boost::json::object result(bool timed_out) {
    auto storm = storm_json(storms_, storm_latency_);
    storm["failed"] = swarm_->failed();
    if (has_presence(base_topic_)) {
      boost::json::array ready;
      std::vector<double> ready_rates;
      for (const auto& s : storms_) {
        ready.push_back(s.ready_per_s());
        ready_rates.push_back(s.ready_per_s());
      }
      std::sort(ready_rates.begin(), ready_rates.end());
      storm["ready_per_s"] = ready_rates.empty() ? 0.0 : ready_rates[(ready_rates.size() - 1) / 2];
      storm["storms_ready_per_s"] = std::move(ready);
      storm["state_latency"] = state_latency_.to_json();
    }
    // The suite's CPU table reads "cpu": the phase the run's targets are about.
    auto cpu =
        o_.probes > 0 ? probe_meter_.to_json(static_cast<double>(probes_.size()), 1) : storm["cpu"];
    boost::json::object out{
        {"topic", topic_},           {"cpu", std::move(cpu)},
        {"storm", std::move(storm)}, {"connections_lost", swarm_->lost()},
        {"timed_out", timed_out},
    };
    if (!o_.baseline_topic.empty()) {
      auto baseline = storm_json(baseline_storms_, baseline_latency_);
      baseline["topic"] = o_.baseline_topic;
      out["baseline"] = std::move(baseline);
    }
    if (o_.probes > 0) {
      histogram reach;
      std::size_t unreached = 0;
      for (const auto& p : probes_) {
        if (!p.joined) continue;
        if (p.seen_by >= o_.connections)
          reach.record(p.last_seen_ns - p.join_sent_ns);
        else
          ++unreached;
      }
      out["probes"] = boost::json::object{
          {"probes", probes_.size()},
          {"offered_rate", o_.rate},
          {"dwell_ms", o_.dwell_ms},
          {"duration_s", probes_s_},
          {"join_errors", join_errors_},
          {"join_latency", probe_join_latency_.to_json()},
          {"diff_reach", reach.to_json()},
          {"unreached", unreached},
          {"cpu", probe_meter_.to_json(static_cast<double>(probes_.size()), 1)},
      };
    }
    return out;
  }

  const loadgen_options& o_;
  std::string topic_;
  boost::asio::io_context io_{one_thread};
  std::string base_topic_;
  std::unique_ptr<swarm> swarm_;
  cpu_meter storm_meter_;
  cpu_meter probe_meter_;
  boost::asio::steady_timer timer_;
  std::optional<pacer> pacer_;
  std::deque<std::size_t> idle_;                               // probe connections not in the room
  std::unordered_map<std::size_t, std::size_t> active_;        // probe connection -> probe id
  std::unordered_map<std::size_t, std::uint64_t> leave_sent_;  // probe connection -> leave ref
  std::deque<probe> probes_;
  std::vector<storm_figures> storms_;
  std::vector<storm_figures> baseline_storms_;
  histogram storm_latency_;  // every storm's
  histogram baseline_latency_;
  histogram state_latency_;  // every storm's: connect to presence_state
  histogram probe_join_latency_;
  std::uint64_t join_errors_ = 0;
  std::size_t member_states_ = 0;
  std::int64_t last_state_ns_ = 0;
  bool all_joined_ = false;
  bool storm_running_ = false;
  double probes_s_ = 0;
  std::int64_t drain_started_ns_ = 0;
  std::int64_t last_reach_ns_ = 0;
};

}  // namespace

boost::json::object run_room(const loadgen_options& options) {
  return room_scenario(options).run();
}

}  // namespace bench
