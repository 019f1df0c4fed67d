#pragma once
// Phoenix presence payloads (docs/presence.md §1.2) built from CRDT lists and diffs. Pure.
//   presence_state: {"<key>": {"metas": [meta + "phx_ref" (+ "phx_ref_prev")]}, ...}
//   presence_diff:  {"joins": {<same shape>}, "leaves": {<same shape>}}
// Keys are emitted verbatim, "__proto__" included: phoenix.js stores them prototype-free.
#include "core/presence/state.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace beryl::presence {

// The app's meta plus "phx_ref", and "phx_ref_prev" for an update's new version. The server's
// refs replace any the app put there.
boost::json::object wire_meta(const entry& e);

// What to push as "presence_state" after a join: pass `state::list(topic)`. Entries are grouped by
// key, metas in list order.
boost::json::object presence_state_payload(const std::vector<entry_ptr>& entries);

// Appends one key of a presence_state as JSON text, `"<key>":{"metas":[...]}`: the same text as
// serializing presence_state_payload's member for `metas` (entries of one key, in order), written
// without building the JSON tree first, for a state text rebuilt per change window.
void append_presence_text(std::string& out, const std::string& key,
                          const std::vector<entry_ptr>& metas);

// What to broadcast as "presence_diff" for one topic of a diff.
boost::json::object presence_diff_payload(const topic_diff& changes);

}  // namespace beryl::presence
