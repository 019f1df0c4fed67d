#pragma once
// The changes of each topic waiting for its next presence_diff (docs/presence.md §1.3), coalesced
// as they arrive: a version that joins and then leaves (or leaves and comes back, as a replica
// going down and up does) cancels out at once. What is held is therefore at most one record per
// entry version still visible or newly gone, whatever the churn. Pure.
#include "core/presence/state.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>

namespace beryl::presence {

class pending_changes {
 public:
  bool empty() const { return topics_.empty(); }
  bool has(const std::string& topic) const { return topics_.count(topic) > 0; }
  std::size_t size() const { return versions_; }  // versions held, over every topic

  void add(const diff& changes);

  // The coalesced changes of every topic, each side in the order the changes arrived; topics
  // whose changes all cancelled out are absent. Starts empty again.
  diff take_all();

 private:
  struct change {
    std::uint64_t order;
    entry_ptr version;
    bool joined;  // false: left
  };
  using topic_changes = std::unordered_map<std::string, change>;  // by phx_ref

  void record(topic_changes& pending, const entry_ptr& version, bool joined);

  std::unordered_map<std::string, topic_changes> topics_;
  std::uint64_t next_order_ = 0;
  std::size_t versions_ = 0;
};

}  // namespace beryl::presence
