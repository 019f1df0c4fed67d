#include "core/presence/wire.hpp"

#include "core/json_text.hpp"

#include <boost/json.hpp>

namespace beryl::presence {

boost::json::object wire_meta(const entry& e) {
  boost::json::object meta = e.meta;
  meta["phx_ref"] = e.phx_ref;
  if (e.phx_ref_prev) meta["phx_ref_prev"] = *e.phx_ref_prev;
  return meta;
}

namespace {

// wire_meta(e) as text. The refs are appended to the meta's own text unless the app's meta has
// keys of those names, which they replace in place: then the object is built.
void append_wire_meta_text(std::string& out, const entry& e) {
  if (e.meta.contains("phx_ref") || e.meta.contains("phx_ref_prev")) {
    wire::append_json(out, wire_meta(e));
    return;
  }
  wire::append_json(out, e.meta);
  out.pop_back();  // the closing brace
  if (!e.meta.empty()) out += ',';
  out += "\"phx_ref\":";
  wire::append_json_string(out, e.phx_ref);
  if (e.phx_ref_prev) {
    out += ",\"phx_ref_prev\":";
    wire::append_json_string(out, *e.phx_ref_prev);
  }
  out += '}';
}

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

void append_presence_text(std::string& out, const std::string& key,
                          const std::vector<entry_ptr>& metas) {
  wire::append_json_string(out, key);
  out += ":{\"metas\":[";
  for (std::size_t i = 0; i < metas.size(); ++i) {
    if (i > 0) out += ',';
    append_wire_meta_text(out, *metas[i]);
  }
  out += "]}";
}

boost::json::object presence_diff_payload(const topic_diff& changes) {
  return {{"joins", group_by_key(changes.joins)}, {"leaves", group_by_key(changes.leaves)}};
}

}  // namespace beryl::presence
