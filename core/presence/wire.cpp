#include "core/presence/wire.hpp"

#include <boost/json.hpp>

namespace beryl::presence {

boost::json::object wire_meta(const entry& e) {
  boost::json::object meta = e.meta;
  meta["phx_ref"] = e.phx_ref;
  if (e.phx_ref_prev) meta["phx_ref_prev"] = *e.phx_ref_prev;
  return meta;
}

namespace {

boost::json::object group_by_key(const std::vector<entry_ptr>& entries) {
  boost::json::object out;
  for (const auto& e : entries) {
    auto& presence = out[e->key];
    if (presence.is_null()) presence = boost::json::object{{"metas", boost::json::array{}}};
    presence.as_object()["metas"].as_array().push_back(wire_meta(*e));
  }
  return out;
}

}  // namespace

boost::json::object presence_state_payload(const std::vector<entry_ptr>& entries) {
  return group_by_key(entries);
}

boost::json::object presence_diff_payload(const topic_diff& changes) {
  return {{"joins", group_by_key(changes.joins)}, {"leaves", group_by_key(changes.leaves)}};
}

}  // namespace beryl::presence
