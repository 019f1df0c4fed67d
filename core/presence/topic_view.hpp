#pragma once
// Who is in one topic as its members were told: the presence_diffs sent so far, applied in
// order. The pubsub shard keeps one per topic beside the topic's subscribers, so a joining member
// gets a presence_state that matches exactly the diffs it will receive after it (nothing it lists
// comes again in a diff, nothing it lacks is skipped), and a join never waits for the presence
// actor. Pure.
#include "core/presence/state.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace beryl::presence {

class topic_view {
 public:
  // Joins first, then leaves, as phoenix.js applies a diff. A leave of a version this view does
  // not hold is ignored.
  void apply(const topic_diff& changes);

  bool empty() const { return by_key_.empty(); }

  // The presence_state payload as JSON text: built on the first call after a change, then shared
  // by every join until the next one.
  std::shared_ptr<const std::string> state_text();

 private:
  std::map<std::string, std::vector<entry_ptr>> by_key_;  // metas in join order
  std::shared_ptr<const std::string> text_;
};

}  // namespace beryl::presence
