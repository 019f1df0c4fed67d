// The exact Phoenix presence payloads (docs/presence.md §1.2-1.3).
#include "core/presence/wire.hpp"

#include "core/json_text.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace beryl::presence;

namespace {

const replica_id node_a{"a@host", "1"};

json::value text(const std::string& s) {
  return json::parse(s);
}

}  // namespace

TEST_CASE("presence wire: presence_state groups metas by key and adds phx_ref") {
  state s(node_a);
  auto phone = s.track("pid1", "room", "alice", {{"device", "phone"}}).entry;
  auto laptop = s.track("pid2", "room", "alice", {{"device", "laptop"}}).entry;
  auto bob = s.track("pid3", "room", "bob", {}).entry;

  auto payload = presence_state_payload(s.list("room"));
  json::object expected{
      {"alice",
       {{"metas", json::array{json::object{{"device", "phone"}, {"phx_ref", phone->phx_ref}},
                              json::object{{"device", "laptop"}, {"phx_ref", laptop->phx_ref}}}}}},
      {"bob", {{"metas", json::array{json::object{{"phx_ref", bob->phx_ref}}}}}}};
  CHECK(payload == expected);
  CHECK(presence_state_payload({}) == json::object{});
}

TEST_CASE(
    "presence wire: an update's diff holds the key in joins (with phx_ref_prev) and in leaves") {
  state s(node_a);
  auto old = s.track("pid1", "room", "alice", {{"status", "away"}}).entry;
  auto result = s.update("pid1", "room", "alice", {{"status", "online"}});
  auto payload = presence_diff_payload(result.changes.at("room"));
  auto expected = text(R"({"joins": {"alice": {"metas": [
                              {"status": "online", "phx_ref": "NEW", "phx_ref_prev": "OLD"}]}},
                           "leaves": {"alice": {"metas": [
                              {"status": "away", "phx_ref": "OLD"}]}}})");
  auto& joined = expected.at("joins").at("alice").at("metas").as_array()[0].as_object();
  joined["phx_ref"] = result.entry->phx_ref;
  joined["phx_ref_prev"] = old->phx_ref;
  expected.at("leaves").at("alice").at("metas").as_array()[0].as_object()["phx_ref"] = old->phx_ref;
  CHECK(json::value(payload) == expected);
}

TEST_CASE(
    "presence wire: a track's diff has only joins, an untrack's only leaves, an empty diff both "
    "empty") {
  state s(node_a);
  auto tracked = s.track("pid1", "room", "bob", {});
  CHECK(json::value(presence_diff_payload(tracked.changes.at("room"))) ==
        text(R"({"joins": {"bob": {"metas": [{"phx_ref": ")" + tracked.entry->phx_ref +
             R"("}]}}, "leaves": {}})"));
  auto left = s.untrack("pid1", "room", "bob");
  CHECK(json::value(presence_diff_payload(left.at("room"))) ==
        text(R"({"joins": {}, "leaves": {"bob": {"metas": [{"phx_ref": ")" +
             tracked.entry->phx_ref + R"("}]}}})"));
  CHECK(json::value(presence_diff_payload({})) == text(R"({"joins": {}, "leaves": {}})"));
}

TEST_CASE("presence wire: server refs replace app-supplied ones; odd keys are emitted verbatim") {
  state s(node_a);
  auto e = s.track("pid1", "room", "__proto__", {{"phx_ref", "forged"}, {"n", 1}}).entry;
  auto meta = wire_meta(*e);
  CHECK(meta.at("phx_ref").as_string() == e->phx_ref);
  CHECK(meta.at("n") == 1);
  CHECK_FALSE(meta.contains("phx_ref_prev"));
  CHECK(e->meta.at("phx_ref") == "forged");  // the stored meta is the app's, untouched

  auto serialized = json::serialize(presence_state_payload(s.list("room")));
  CHECK(serialized == R"({"__proto__":{"metas":[{"phx_ref":")" + e->phx_ref + R"(","n":1}]}})");
}

TEST_CASE("presence wire: a key's text is the payload's member as the server serializes it") {
  state s(node_a);
  s.track("pid1", "room", "alice", {{"device", "phone"}, {"seen", 1.5}});
  s.track("pid2", "room", "alice", {});
  s.track("pid3", "room", "b\"ob\n\xc3\xa9", {{"nested", {{"a", json::array{1, "x"}}}}});
  s.track("pid4", "room", "carol", {{"phx_ref", "forged"}, {"n", 1}});
  s.track("pid5", "room", "dave", {{"status", "away"}});
  s.update("pid5", "room", "dave", {{"status", "online"}});
  s.track("pid6", "room", "erin", {{"phx_ref_prev", "forged"}});

  auto entries = s.list("room");
  std::vector<std::string> keys;  // in the payload's order: first appearance
  std::map<std::string, std::vector<entry_ptr>> by_key;
  for (const auto& e : entries) {
    if (by_key.find(e->key) == by_key.end()) keys.push_back(e->key);
    by_key[e->key].push_back(e);
  }
  std::string listed = "{";
  for (const auto& key : keys) {
    if (listed.size() > 1) listed += ',';
    append_presence_text(listed, key, by_key[key]);
  }
  listed += '}';
  std::string expected;
  beryl::wire::append_json(expected, presence_state_payload(entries));
  CHECK(listed == expected);
  CHECK(by_key["dave"].front()->phx_ref_prev);  // the update's ref_prev is in the text
  CHECK(listed.find("phx_ref_prev") != std::string::npos);
}
