// heal: presence convergence after a partition heals, on a cluster on one machine. N members
// join presence:heal spread over the nodes (connection i on URL i mod count, the first
// connection on each node also its observer). Once every observer sees every member, the last
// node is stopped (SIGSTOP of --pause-pid) until the other observers saw its members leave (the
// node was silent for the presence down period: a partition), then continued. Convergence is
// the time from SIGCONT until every observer again sees every member and keeps seeing them for
// `settle_s` (a resumed node may first drop the others it has not heard from, then heal).
#include "clock.hpp"
#include "cpu_meter.hpp"
#include "scenarios.hpp"
#include "swarm.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <signal.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <string>
#include <vector>

namespace bench {
namespace {

constexpr const char* heal_topic = "presence:heal";
constexpr std::string_view member_prefix = "\"heal-";
constexpr double settle_s = 2;
constexpr auto poll_interval = std::chrono::milliseconds(10);

// Stops a server and continues it at the latest when this goes out of scope: a run that ends
// early must never leave a node stopped.
class pause_guard {
 public:
  explicit pause_guard(pid_t pid) : pid_(pid) {}
  ~pause_guard() { resume(); }
  pause_guard(const pause_guard&) = delete;
  pause_guard& operator=(const pause_guard&) = delete;

  void pause() {
    paused_ = kill(pid_, SIGSTOP) == 0;
    if (!paused_) spdlog::error("heal: cannot stop pid {}", pid_);
  }
  void resume() {
    if (paused_) kill(pid_, SIGCONT);
    paused_ = false;
  }
  bool paused() const { return paused_; }

 private:
  pid_t pid_;
  bool paused_ = false;
};

// One observer's view of the topic's presence: which members it was told are there.
class presence_view {
 public:
  explicit presence_view(std::size_t members) : present_(members, false) {}

  void apply_state(std::string_view state) {
    std::fill(present_.begin(), present_.end(), false);
    count_ = 0;
    mark(state, true);
  }
  // Leaves first, then joins: a diff that moves a member (a leave and a join of the same key)
  // leaves it present. The members here never leave and rejoin within one diff.
  void apply_diff(std::string_view diff) {
    const auto joins = diff.find("\"joins\"");
    const auto leaves = diff.find("\"leaves\"");
    if (joins == std::string_view::npos || leaves == std::string_view::npos) return;
    mark(leaves < joins ? diff.substr(leaves, joins - leaves) : diff.substr(leaves), false);
    mark(joins < leaves ? diff.substr(joins, leaves - joins) : diff.substr(joins), true);
  }

  std::size_t count() const { return count_; }
  bool complete() const { return count_ == present_.size(); }
  // True when none of the members with index % nodes == node is present.
  bool lacks_node(std::size_t node, std::size_t nodes) const {
    for (std::size_t i = node; i < present_.size(); i += nodes) {
      if (present_[i]) return false;
    }
    return true;
  }

 private:
  // Every "heal-<id>" key in `json` (member keys need no escaping; metas never hold the prefix).
  void mark(std::string_view json, bool present) {
    for (auto at = json.find(member_prefix); at != std::string_view::npos;
         at = json.find(member_prefix, at + 1)) {
      const char* first = json.data() + at + member_prefix.size();
      const char* end_of_json = json.data() + json.size();
      std::size_t id = 0;
      const auto [end, ec] = std::from_chars(first, end_of_json, id);
      if (ec != std::errc() || end == end_of_json || *end != '"' || id >= present_.size()) continue;
      if (present_[id] != present) count_ += present ? 1 : -1;
      present_[id] = present;
    }
  }

  std::vector<bool> present_;
  std::size_t count_ = 0;
};

class heal_scenario final : public swarm::sink {
 public:
  explicit heal_scenario(const loadgen_options& o)
      : o_(o),
        nodes_(o.targets.size()),
        paused_node_(nodes_ - 1),
        swarm_(io_, o.targets, *this, o.max_in_flight),
        meter_(o.server_pids),
        pause_(o.pause_pid),
        views_(nodes_, presence_view(o.connections)),
        timer_(io_) {}

  boost::json::object run() {
    swarm::join_spec members{
        heal_topic, [](std::size_t i) { return "{\"user\":\"heal-" + std::to_string(i) + "\"}"; }};
    swarm_.grow(o_.connections, members, [this] { start(); });
    const bool timed_out = run_until_stopped(io_, o_.timeout_s);
    pause_.resume();
    return result(timed_out);
  }

  // Members other than the observers drop their presence frames unread.
  bool on_frame_start(phx_conn& conn, const phx_frame& head) override {
    return conn.index() >= nodes_ &&
           (head.event == "presence_state" || head.event == "presence_diff");
  }

  void on_frame(phx_conn& conn, const phx_frame& frame) override {
    if (conn.index() >= nodes_) return;
    auto& view = views_[conn.index()];
    const bool was_complete = all_complete();
    if (frame.event == "presence_state") {
      view.apply_state(frame.payload);
    } else if (frame.event == "presence_diff") {
      view.apply_diff(frame.payload);
    } else {
      return;
    }
    const bool complete = all_complete();
    if (complete == was_complete) return;
    if (complete) {
      completed_ns_ = now_ns();
    } else if (healing_) {
      ++relapses_;
    }
  }

 private:
  bool all_complete() const {
    for (const auto& v : views_) {
      if (!v.complete()) return false;
    }
    return true;
  }

  // Every observer other than the paused node's saw the paused node's members leave.
  bool partitioned() const {
    for (std::size_t node = 0; node < nodes_; ++node) {
      if (node != paused_node_ && !views_[node].lacks_node(paused_node_, nodes_)) return false;
    }
    return true;
  }

  void start() {
    if (swarm_.failed() > 0) {
      spdlog::error("heal: {} of {} members failed to join: {}", swarm_.failed(), o_.connections,
                    swarm_.first_error());
      return io_.stop();
    }
    joined_ns_ = now_ns();
    meter_.start();
    poll([this] { return all_complete(); }, [this] { partition(); });
  }

  void partition() {
    initial_s_ = seconds_between(joined_ns_, now_ns());
    spdlog::info("heal: {} members seen on every node after {:.3f} s; stopping the last node",
                 o_.connections, initial_s_);
    paused_ns_ = now_ns();
    pause_.pause();
    if (!pause_.paused()) return io_.stop();
    poll([this] { return partitioned(); }, [this] { heal(); });
  }

  void heal() {
    resumed_ns_ = now_ns();
    partition_s_ = seconds_between(paused_ns_, resumed_ns_);
    spdlog::info("heal: the others saw its members leave after {:.3f} s; continuing it",
                 partition_s_);
    healing_ = true;
    completed_ns_ = 0;
    pause_.resume();
    poll([this] { return settled(); },
         [this] {
           meter_.stop();
           converged_ = true;
           io_.stop();
         });
  }

  bool settled() const {
    return all_complete() && completed_ns_ > 0 &&
           seconds_between(completed_ns_, now_ns()) >= settle_s;
  }

  // Runs `then` once `ready` holds, checking every poll_interval; the deadline ends a wait that
  // never ends.
  void poll(std::function<bool()> ready, std::function<void()> then) {
    if (ready()) return then();
    timer_.expires_after(poll_interval);
    timer_.async_wait([this, ready = std::move(ready),
                       then = std::move(then)](boost::system::error_code ec) mutable {
      if (!ec) poll(std::move(ready), std::move(then));
    });
  }

  boost::json::object result(bool timed_out) {
    if (!converged_) meter_.stop();
    boost::json::array seen;
    for (const auto& v : views_) seen.push_back(v.count());
    return {
        {"members", o_.connections},
        {"nodes", nodes_},
        {"joined", swarm_.joined()},
        {"join_failures", swarm_.failed()},
        {"connections_lost", swarm_.lost()},
        {"initial_convergence_s", initial_s_},
        {"partition_s", partition_s_},
        {"converged", converged_},
        {"heal_convergence_s", converged_
                                   ? boost::json::value(seconds_between(resumed_ns_, completed_ns_))
                                   : boost::json::value(nullptr)},
        {"relapses", relapses_},
        {"members_seen_per_node", std::move(seen)},
        {"cpu", meter_.to_json(static_cast<double>(o_.connections), 1)},
        {"timed_out", timed_out},
    };
  }

  const loadgen_options& o_;
  std::size_t nodes_;
  std::size_t paused_node_;
  boost::asio::io_context io_{one_thread};
  swarm swarm_;
  cpu_meter meter_;
  pause_guard pause_;
  std::vector<presence_view> views_;  // observer i is connection i, on node i
  boost::asio::steady_timer timer_;
  std::int64_t joined_ns_ = 0;
  std::int64_t paused_ns_ = 0;
  std::int64_t resumed_ns_ = 0;
  std::int64_t completed_ns_ = 0;  // when every view last became complete
  double initial_s_ = 0;
  double partition_s_ = 0;
  std::size_t relapses_ = 0;
  bool healing_ = false;
  bool converged_ = false;
};

}  // namespace

boost::json::object run_heal(const loadgen_options& options) {
  return heal_scenario(options).run();
}

}  // namespace bench
