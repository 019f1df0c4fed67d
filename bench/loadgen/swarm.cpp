#include "swarm.hpp"

#include "clock.hpp"

#include <spdlog/spdlog.h>

namespace bench {
namespace {

// Phoenix clients heartbeat every 30 s and servers drop sockets silent for 60 s; a one-second
// tick heartbeating a 30th of the connections spreads that load evenly.
constexpr std::size_t heartbeat_slices = 30;

}  // namespace

swarm::swarm(boost::asio::io_context& io, std::vector<ws_target> targets, sink& frame_sink,
             std::size_t max_in_flight)
    : io_(io),
      targets_(std::move(targets)),
      sink_(frame_sink),
      max_in_flight_(max_in_flight),
      heartbeat_timer_(io) {
  schedule_heartbeats();
}

void swarm::grow(std::size_t total, join_spec spec, std::function<void()> done) {
  spec_ = std::move(spec);
  grow_done_ = std::move(done);
  goal_ = total;
  grow_started_ns_ = now_ns();
  grow_finished_ns_ = grow_started_ns_;
  join_latency_ = histogram();
  unsettled_ = total > conns_.size() ? total - conns_.size() : 0;
  if (unsettled_ == 0) {
    boost::asio::post(io_, [this] { grow_done_(); });
    return;
  }
  conns_.reserve(total);
  states_.reserve(total);
  launch_more();
}

void swarm::launch_more() {
  while (in_flight_ < max_in_flight_ && conns_.size() < goal_) {
    const std::size_t index = conns_.size();
    conns_.push_back(std::make_unique<phx_conn>(io_, *this, index));
    states_.push_back({now_ns(), conn_stage::connecting});
    ++in_flight_;
    conns_.back()->connect(targets_[index % targets_.size()]);
  }
}

void swarm::on_open(phx_conn& conn) {
  conn_state& state = states_[conn.index()];
  if (spec_.topic.empty()) return settle(conn.index(), true, {});
  state.stage = conn_stage::joining;
  conn.join(spec_.topic, spec_.payload ? spec_.payload(conn.index()) : "{}");
}

void swarm::on_frame(phx_conn& conn, const phx_frame& frame) {
  conn_state& state = states_[conn.index()];
  if (state.stage == conn_stage::joining && frame.event == "phx_reply" &&
      ref_number(frame.ref) == conn.join_ref()) {
    const bool ok = find_string(frame.payload, "status") == std::string_view("ok");
    settle(conn.index(), ok, ok ? std::string() : "join refused: " + std::string(frame.payload));
    return;
  }
  sink_.on_frame(conn, frame);
}

bool swarm::on_frame_start(phx_conn& conn, const phx_frame& head) {
  if (states_[conn.index()].stage == conn_stage::joining) return false;  // its join reply, whole
  return sink_.on_frame_start(conn, head);
}

void swarm::on_closed(phx_conn& conn, const std::string& reason) {
  conn_state& state = states_[conn.index()];
  if (state.stage == conn_stage::connecting || state.stage == conn_stage::joining) {
    settle(conn.index(), false, reason);
    state.stage = conn_stage::closed;
    return;
  }
  const bool was_joined = state.stage == conn_stage::joined;
  state.stage = conn_stage::closed;
  if (closing_ > 0) {
    if (--closing_ == 0 && close_done_) boost::asio::post(io_, std::move(close_done_));
    return;
  }
  if (was_joined) {
    ++lost_;
    if (first_error_.empty()) first_error_ = reason;
    spdlog::debug("connection {} lost: {}", conn.index(), reason);
  }
}

void swarm::settle(std::size_t index, bool ok, const std::string& error) {
  conn_state& state = states_[index];
  --in_flight_;
  if (ok) {
    state.stage = conn_stage::joined;
    ++joined_;
    join_latency_.record(now_ns() - state.started_ns);
  } else {
    state.stage = conn_stage::failed;
    ++failed_;
    if (first_error_.empty()) first_error_ = error;
    spdlog::debug("connection {} failed: {}", index, error);
  }
  grow_finished_ns_ = now_ns();
  launch_more();
  if (--unsettled_ == 0 && grow_done_) boost::asio::post(io_, grow_done_);
}

void swarm::close_all(std::function<void()> done) {
  close_done_ = std::move(done);
  heartbeat_timer_.cancel();
  closing_ = 0;
  for (std::size_t i = 0; i < conns_.size(); ++i) {
    if (conns_[i]->is_open()) {
      ++closing_;
      conns_[i]->close();
    }
  }
  if (closing_ == 0) boost::asio::post(io_, std::move(close_done_));
}

void swarm::schedule_heartbeats() {
  heartbeat_timer_.expires_after(std::chrono::seconds(1));
  heartbeat_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const std::size_t slice = heartbeat_tick_++ % heartbeat_slices;
    for (std::size_t i = slice; i < conns_.size(); i += heartbeat_slices) conns_[i]->heartbeat();
    schedule_heartbeats();
  });
}

}  // namespace bench
