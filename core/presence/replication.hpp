#pragma once
// Replication of one presence replica with its peers, with the semantics of Phoenix's
// Tracker.Shard (docs/presence.md §3.6). Pure and deterministic: no threads, no clock of its own
// (the caller passes the time in), no sockets. It talks to peers only through the messages it
// returns, and reports what local clients must be told as a presence diff.
//
//   * Every tick ships the pending delta to every connected node in a heartbeat, or an empty
//     heartbeat once the replica has been silent for `max_silent_periods` ticks.
//   * A heartbeat is the only proof of life: the first one from a replica marks it up, a newer
//     incarnation (vsn) of a node retires the old one at once, silence for `down_period` hides a
//     replica's entries and silence for `permdown_period` deletes them for good.
//   * A replica that comes up (first seen, back from down, or a new incarnation) is answered at
//     once with a heartbeat and a transfer request, so both sides sync without waiting.
//   * Every `clock_sample_periods` ticks, a peer whose heartbeat clocks show dots this replica
//     lacks (a lost heartbeat, say) is asked for a transfer, answered with the smallest delta
//     generation that closes the gap or, failing that, a full snapshot.
//   * A retired incarnation stays retired (state::permdown): after a partition longer than
//     permdown_period, a node is seen again only once it restarts with a new vsn.
#include "core/presence/state.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace beryl::presence {

// Phoenix's defaults. A peer that is idle heartbeats every (max_silent_periods + 1) ticks, so
// down_period must leave room for that.
struct replication_settings {
  std::chrono::milliseconds broadcast_period{1500};  // how often the caller calls tick()
  unsigned max_silent_periods = 10;
  std::chrono::milliseconds down_period{30'000};
  std::chrono::milliseconds permdown_period{1'200'000};
  unsigned clock_sample_periods = 2;
  std::vector<std::size_t> max_delta_sizes{100, 1000, 10'000};  // delta generations, by size
};

// Why `s` cannot work, or nothing when it can.
std::optional<std::string> settings_error(const replication_settings& s);

// ---- messages between replicas ------------------------------------------------------------

// "I am alive", with the pending delta if there was one, and what this replica has observed
// (state::clocks()) so the receiver can notice what it missed.
struct heartbeat {
  std::optional<delta> changes;
  clock_map clocks;
};

// "Send me what I lack": the requester's clocks.
struct transfer_request {
  clock_map clocks;
};

// The answer: a delta generation when one closes the gap, otherwise a full snapshot.
struct transfer {
  std::variant<delta, snapshot> payload;
};

using peer_message = std::variant<heartbeat, transfer_request, transfer>;

// A message with its sender, as it travels between nodes.
struct envelope {
  replica_id from;
  peer_message message;
};

// Node-to-node JSON text; decoding is strict and returns nothing on malformed input.
std::string encode(const envelope& e);
std::optional<envelope> decode_envelope(std::string_view json);

// ---- the replicator -----------------------------------------------------------------------

// A message to send, from this replica, to each node in `to`.
struct outgoing {
  std::vector<std::string> to;
  peer_message message;
};

// What a replica learnt about a peer, for logs and metrics.
struct replica_event {
  enum class kind { up, down, permdown };
  kind what;
  replica_id replica;

  friend bool operator==(const replica_event& a, const replica_event& b) {
    return a.what == b.what && a.replica == b.replica;
  }
};

// What a call asks of its caller: messages to send, changes to broadcast to local clients as
// presence_diff, and peer events.
struct effects {
  std::vector<outgoing> messages;
  diff changes;
  std::vector<replica_event> events;
};

class replicator {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // Throws std::invalid_argument when settings_error(settings) says why.
  explicit replicator(replica_id self, replication_settings settings = {});

  const replica_id& self() const { return local_.self(); }
  const replication_settings& settings() const { return settings_; }
  // Reads (list, get_by_key, ...). Changes go through the calls below, so that deltas, merges
  // and replica lifecycle stay in step with the peers.
  const state& local() const { return local_; }

  // Local operations: the state's, unchanged. Their diffs are for local clients; peers get the
  // operations with the next tick.
  op_result track(const std::string& pid, const std::string& topic, const std::string& key,
                  boost::json::object meta);
  op_result update(const std::string& pid, const std::string& topic, const std::string& key,
                   boost::json::object meta);
  diff untrack(const std::string& pid, const std::string& topic, const std::string& key);
  diff untrack_all(const std::string& pid);

  // The nodes heartbeats go to. A new connection gets an empty heartbeat right away, so the
  // peer sees this replica without waiting for it to speak. Losing a connection changes nobody's
  // status: only silence does, as in Phoenix, so a short disconnect causes no leaves.
  std::vector<outgoing> peer_connected(const std::string& node);
  void peer_lost(const std::string& node);
  const std::set<std::string>& connected() const { return connected_; }

  // `node` is leaving on purpose (Phoenix's graceful_permdown): the incarnation followed for it
  // is retired now, its entries leaving local clients at once instead of after down_period.
  effects node_left(const std::string& node);

  // Once every broadcast_period: heartbeat, transfer requests, then down and permdown detection.
  effects tick(time_point now);
  // A message from another replica, sent by its `tick` or `receive`.
  effects receive(const replica_id& from, const peer_message& message, time_point now);
  effects receive(const envelope& e, time_point now) { return receive(e.from, e.message, now); }

  // The live incarnation of `node` this replica follows, if any; local().status() tells whether
  // it is up.
  std::optional<replica_id> replica_of(const std::string& node) const;
  const std::vector<delta>& generations() const { return generations_; }

  // Without peers (a single node), the operations recorded for them are dropped instead of
  // shipped, so that churn cannot grow them without bound.
  void drop_unshipped() {
    if (local_.has_delta()) local_.take_delta();
  }

 private:
  // A retired peer stays on record, so that a late message of an older start is still known
  // to be stale.
  struct peer {
    replica_id replica;
    replica_status status = replica_status::up;
    time_point last_heartbeat;
    bool retired = false;
  };

  // How a heartbeat's sender relates to the incarnation followed for its node.
  enum class sighting { stale, known, came_up };

  effects on_heartbeat(const replica_id& from, const heartbeat& beat, time_point now);
  effects on_transfer_request(const replica_id& from, const transfer_request& request) const;
  effects on_transfer(const transfer& t);
  sighting note_heartbeat(const replica_id& from, time_point now, effects& out);
  void bring_up(const replica_id& replica, effects& out);
  void greet(const replica_id& replica, effects& out) const;
  void retire(const replica_id& replica, effects& out);
  void broadcast_heartbeat(effects& out);
  void request_transfers(effects& out);
  std::vector<replica_id> peers_ahead() const;
  void detect_downs(time_point now, effects& out);
  void push_generation(const delta& d);
  std::optional<delta> generation_for(const clock_map& remote) const;
  clock_map shipped_clocks() const;
  std::vector<std::string> recipients() const;

  replication_settings settings_;
  state local_;
  std::map<std::string, peer> peers_;  // by node: one incarnation per node
  std::set<std::string> connected_;
  std::map<replica_id, clock_map> pending_clocks_;  // heartbeat clocks since the last sample
  std::vector<delta> generations_;                  // one per max_delta_sizes entry
  std::uint64_t shipped_clock_ = 0;                 // own clock at the last heartbeat's delta
  unsigned silent_periods_;
  unsigned ticks_to_sample_;
};

}  // namespace beryl::presence
