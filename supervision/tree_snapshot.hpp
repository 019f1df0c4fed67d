#pragma once

#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "caf/result.hpp"
#include "caf/timespan.hpp"

#include "supervision/messages.hpp"

// Building the JSON answer to snapshot_atom. A supervisor describes itself and its children;
// running child supervisors are asked for their own subtree asynchronously, so a snapshot never
// blocks an actor.
namespace beryl::supervision::detail {

/// One child's entry. `subtree` is set for a running child supervisor: its own answer is merged
/// into `node`, and the parent's bookkeeping ("restart", "restarts", "last_exit_reason", "id")
/// wins over the child's view of itself.
struct snapshot_entry {
  boost::json::object node;
  caf::actor subtree;
};

/// How long a supervisor waits for each child supervisor's subtree.
constexpr caf::timespan subtree_timeout = std::chrono::seconds(2);

/// Answers the current snapshot request: `node` with "children" set to the entries.
caf::result<boost::json::value> answer_snapshot(caf::event_based_actor* self,
                                                boost::json::object node,
                                                std::vector<snapshot_entry> children);

/// null for a normal exit or no exit yet, the rendered reason otherwise.
boost::json::value reason_to_json(caf::actor_system& sys, const caf::error& reason);

}  // namespace beryl::supervision::detail
