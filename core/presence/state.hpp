#pragma once
// The presence CRDT with Phoenix Tracker State semantics (docs/presence.md §3). Pure: no CAF, no
// Asio.
//
// An observed-remove set with add-wins semantics over dots `(replica incarnation, clock)`:
//   * every local operation bumps the local clock, and a removal ships the removed dot in the
//     delta's clouds as a removal marker, so deltas can express leaves;
//   * a merge imports only entries of replicas marked up at least once, removes a remote entry
//     only when the sender's causal context covers its dot, and never touches own entries;
//   * a replica is one start of a node (`vsn`), so a restarted node never reuses old dots;
//   * an owner mints a new version of an entry only after removing the old one, so a newer
//     version proves older ones dead: a late or stale older version is never shown (Phoenix
//     would show it until its removal marker or a full state arrives).
// Entries live in per-topic ordered indexes, so `list(topic)` costs the topic's size and local
// operations cost O(log n).
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace beryl::presence {

// One start of one node's tracker. A restarted node gets a new `vsn`, so it is a new replica.
struct replica_id {
  std::string node;
  std::string vsn;

  friend bool operator==(const replica_id& a, const replica_id& b) {
    return a.node == b.node && a.vsn == b.vsn;
  }
  friend bool operator!=(const replica_id& a, const replica_id& b) { return !(a == b); }
  friend bool operator<(const replica_id& a, const replica_id& b) {
    return std::tie(a.node, a.vsn) < std::tie(b.node, b.vsn);
  }
};

// The `clock`-th event of `replica` (clocks start at 1). Each entry version has exactly one.
struct dot {
  replica_id replica;
  std::uint64_t clock = 0;

  friend bool operator==(const dot& a, const dot& b) {
    return a.clock == b.clock && a.replica == b.replica;
  }
  friend bool operator!=(const dot& a, const dot& b) { return !(a == b); }
  friend bool operator<(const dot& a, const dot& b) {
    return std::tie(a.replica, a.clock) < std::tie(b.replica, b.clock);
  }
};

using clock_map = std::map<replica_id, std::uint64_t>;
using cloud_map = std::map<replica_id, std::set<std::uint64_t>>;  // no empty sets

// What a replica has observed: per replica a contiguous prefix of dots (`context`) plus the dots
// seen beyond it (`clouds`). A dot is "in" it when either covers it.
struct causal_context {
  clock_map context;
  cloud_map clouds;

  bool contains(const dot& d) const;
  void add(const dot& d);
  // Folds cloud dots that extend the prefix into it and drops covered ones (§3.5). Never changes
  // which dots are contained.
  void compact();

  friend bool operator==(const causal_context& a, const causal_context& b) {
    return a.context == b.context && a.clouds == b.clouds;
  }
};

// The client-visible ref of the entry version carrying `tag`: URL-safe base64 of a 96-bit hash of
// the dot, 16 characters, no padding. Deterministic, so it is the same on every replica.
std::string phx_ref_of(const dot& tag);

// One tracked entry version. Immutable; shared by the state, deltas, snapshots and diffs.
struct entry {
  entry(std::string topic, std::string key, std::string pid, boost::json::object meta, dot tag,
        std::optional<std::uint64_t> previous_clock);

  std::string topic;
  std::string key;
  std::string pid;  // opaque, and meaningful only on the owner replica (`tag.replica`)
  boost::json::object meta;
  dot tag;
  std::optional<std::uint64_t> previous_clock;  // set by an update: the replaced version's clock
  std::string phx_ref;
  std::optional<std::string> phx_ref_prev;  // derived from `previous_clock`
};
using entry_ptr = std::shared_ptr<const entry>;
using entry_map = std::map<dot, entry_ptr>;  // by tag

// What a topic's clients must be told: entries that became visible and entries that stopped
// being visible. An update shows up in both, with different refs.
struct topic_diff {
  std::vector<entry_ptr> joins;
  std::vector<entry_ptr> leaves;
};
using diff = std::map<std::string, topic_diff>;  // by topic; unchanged topics are absent

// The operations since the last broadcast (§3.1): the entries added and still alive, every dot
// produced or removed (a dot without a value is a removal marker), and the clock range covered.
struct delta {
  entry_map values;
  cloud_map clouds;
  clock_map start;
  clock_map end;

  bool empty() const { return clouds.empty(); }
  std::size_t size() const;  // values plus cloud dots, what Phoenix caps generations by
};

// Combines two deltas whose clock ranges overlap or touch (generation building, §3.4); nothing
// when they are not contiguous.
std::optional<delta> merge_deltas(const delta& a, const delta& b);

// A full state for anti-entropy: the sender's causal context and entries.
struct snapshot {
  causal_context causality;
  entry_map values;
};

enum class op_status { ok, already_tracked, nopresence };

struct op_result {
  op_status status = op_status::ok;
  entry_ptr entry;  // the new version, on success
  diff changes;     // what to broadcast locally, empty on failure
};

enum class replica_status { up, down };

class state {
 public:
  explicit state(replica_id self);

  const replica_id& self() const { return self_; }
  std::uint64_t clock() const;  // the last own dot; the next one is strictly greater

  // Local operations on this replica's entries; `pid` names a local process.
  op_result track(const std::string& pid, const std::string& topic, const std::string& key,
                  boost::json::object meta);
  op_result update(const std::string& pid, const std::string& topic, const std::string& key,
                   boost::json::object meta);
  diff untrack(const std::string& pid, const std::string& topic, const std::string& key);
  diff untrack_all(const std::string& pid);

  // Reads: only entries whose replica is up.
  std::vector<entry_ptr> list(const std::string& topic) const;
  // Entries stored for the topic, visible or not: at once, where list() costs the topic's size.
  std::size_t entries_in(const std::string& topic) const;
  std::vector<entry_ptr> get_by_key(const std::string& topic, const std::string& key) const;
  // This replica's entry for a local process, if tracked.
  entry_ptr get_local(const std::string& pid, const std::string& topic,
                      const std::string& key) const;

  // Replication.
  bool has_delta() const { return !delta_.empty(); }
  // Hands over the operations since the last call and starts a new delta at the current clock.
  delta take_delta();
  // Full state for `requester`: everything but its own entries.
  snapshot extract(const replica_id& requester) const;
  // The same, pruned to the replicas the requester knows (the keys of its `clocks()`).
  snapshot extract(const replica_id& requester, const clock_map& requester_clocks) const;
  diff merge(const snapshot& remote);
  diff merge(const delta& remote);
  // The context without down replicas, what a transfer request carries (§3.6).
  clock_map clocks() const;
  const causal_context& causality() const { return known_; }

  // Replica lifecycle. `replica_up` makes a replica known (its data is ignored before) or brings
  // a down one back, reporting its stored entries as joins with their old refs. It refuses this
  // replica and retired ones. `replica_down` hides a replica's entries (leaves) and keeps them.
  // `permdown` deletes everything of a replica and retires it for good.
  std::optional<diff> replica_up(const replica_id& replica);
  diff replica_down(const replica_id& replica);
  diff permdown(const replica_id& replica);
  std::optional<replica_status> status(const replica_id& replica) const;
  bool is_retired(const replica_id& replica) const { return retired_.count(replica) > 0; }

 private:
  // An entry's identity within a topic. The owner is part of it: pids are only unique per node.
  struct slot {
    std::string key;
    replica_id owner;
    std::string pid;

    friend bool operator<(const slot& a, const slot& b) {
      return std::tie(a.key, a.owner, a.pid) < std::tie(b.key, b.owner, b.pid);
    }
  };
  using topic_entries = std::map<slot, entry_ptr>;
  using topic_key = std::pair<std::string, std::string>;
  using slot_in_topic = std::pair<std::string, slot>;

  bool known(const replica_id& replica) const { return replicas_.count(replica) > 0; }
  bool visible(const replica_id& replica) const;
  dot bump();
  void insert_entry(const entry_ptr& e);
  void erase_entry(const entry_ptr& e);
  entry_ptr find_slot(const std::string& topic, const slot& where) const;
  void remove_local(const entry_ptr& e);
  void mark_removed_in_delta(const dot& tag);
  std::vector<entry_ptr> entries_of(const replica_id& replica) const;
  diff merge_remote(const entry_map& values, const clock_map& context, const cloud_map& clouds);
  void forget_settled_removals();
  template <typename Keep>
  snapshot extract_if(const replica_id& requester, Keep keep) const;
  void reset_delta();

  replica_id self_;
  causal_context known_;  // its context has exactly the known replicas as keys
  std::map<replica_id, replica_status> replicas_;
  std::set<replica_id> retired_;
  entry_map by_tag_;  // ordered by (replica, clock): a replica's entries are one range
  std::unordered_map<std::string, topic_entries> topics_;
  std::unordered_map<std::string, std::set<topic_key>> own_by_pid_;
  // The clock of the last removed version of remote slots, kept while the owner's prefix has not
  // reached it: an older version of the slot is dead, even if it arrives late.
  std::map<slot_in_topic, std::uint64_t> removed_versions_;
  delta delta_;
};

}  // namespace beryl::presence
