// Many connections of one generator process: opened with a bounded number of handshakes in
// flight (a burst of thousands of SYNs overflows the listen backlog), each joined to a topic,
// kept alive with a heartbeat every 30 s, and every later frame handed to the scenario.
#pragma once

#include "histogram.hpp"
#include "phoenix_conn.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bench {

class swarm final : public phx_listener {
 public:
  class sink {
   public:
    virtual void on_frame(phx_conn& conn, const phx_frame& frame) = 0;
    // As phx_listener::on_frame_start, for frames past the join reply.
    virtual bool on_frame_start(phx_conn& conn, const phx_frame& head) {
      (void)conn;
      (void)head;
      return false;
    }

   protected:
    ~sink() = default;
  };

  struct join_spec {
    std::string topic;                                      // empty: connect only
    std::function<std::string(std::size_t index)> payload;  // the join payload; "{}" when unset
  };

  // Connection i goes to targets[i % targets.size()] (the nodes of a cluster, or one server).
  swarm(boost::asio::io_context& io, std::vector<ws_target> targets, sink& frame_sink,
        std::size_t max_in_flight);

  // Adds connections until there are `total`; `done` runs once every new one joined or failed.
  void grow(std::size_t total, join_spec spec, std::function<void()> done);
  // Closes every open connection with a closing handshake; `done` runs when all are closed.
  void close_all(std::function<void()> done);

  std::size_t size() const { return conns_.size(); }
  phx_conn& at(std::size_t index) { return *conns_[index]; }
  std::size_t joined() const { return joined_; }
  std::size_t failed() const { return failed_; }
  // Joined connections closed other than by close_all().
  std::size_t lost() const { return lost_; }
  // Latency from the start of the TCP connect to the join reply, for the last grow().
  const histogram& join_latency() const { return join_latency_; }
  // When connection `index` started its TCP connect.
  std::int64_t started_ns(std::size_t index) const { return states_[index].started_ns; }
  // When the last grow() began and when its last connection joined or failed.
  std::int64_t grow_started_ns() const { return grow_started_ns_; }
  std::int64_t grow_finished_ns() const { return grow_finished_ns_; }
  const std::string& first_error() const { return first_error_; }

 private:
  enum class conn_stage { connecting, joining, joined, failed, closed };
  struct conn_state {
    std::int64_t started_ns = 0;
    conn_stage stage = conn_stage::connecting;
  };

  void on_open(phx_conn& conn) override;
  void on_frame(phx_conn& conn, const phx_frame& frame) override;
  bool on_frame_start(phx_conn& conn, const phx_frame& head) override;
  void on_closed(phx_conn& conn, const std::string& reason) override;

  void launch_more();
  void settle(std::size_t index, bool ok, const std::string& error);
  void schedule_heartbeats();

  boost::asio::io_context& io_;
  std::vector<ws_target> targets_;
  sink& sink_;
  std::size_t max_in_flight_;
  std::vector<std::unique_ptr<phx_conn>> conns_;
  std::vector<conn_state> states_;
  join_spec spec_;
  std::function<void()> grow_done_;
  std::function<void()> close_done_;
  std::size_t goal_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t unsettled_ = 0;
  std::size_t closing_ = 0;
  std::size_t joined_ = 0;
  std::size_t failed_ = 0;
  std::size_t lost_ = 0;
  std::string first_error_;
  histogram join_latency_;
  std::int64_t grow_started_ns_ = 0;
  std::int64_t grow_finished_ns_ = 0;
  boost::asio::steady_timer heartbeat_timer_;
  std::size_t heartbeat_tick_ = 0;
};

}  // namespace bench
