#include "actor_test_support.hpp"
#include "actors/atoms.hpp"
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "core/json_serializer.hpp"
#include "seeded_random.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>
#include <caf/all.hpp>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace json = boost::json;
using namespace beryl;
using testing::eventually;
using testing::recording_outbox;
using namespace std::chrono_literals;

namespace {

// A tracked "channel": it only lives until it is told to stop.
caf::behavior tracked(caf::event_based_actor*) {
  return {[](caf::ok_atom) {}};
}

struct presence_fixture : testing::test_actor_system {
  std::unique_ptr<caf::scoped_actor> self;
  pubsub_handle pubsub;
  presence_handle presence;
  std::shared_ptr<recording_outbox> member = std::make_shared<recording_outbox>();

  explicit presence_fixture(std::size_t max_meta_bytes = presence::default_max_meta_bytes,
                            std::chrono::milliseconds diff_interval = 30ms) {
    self = std::make_unique<caf::scoped_actor>(*sys);
    pubsub = spawn_pubsub(*sys, 1);
    presence_settings settings;
    settings.diff_interval = diff_interval;
    settings.max_meta_bytes = max_meta_bytes;
    presence = spawn_presence(*sys, pubsub.shards, settings);
    static const std::string vsn = "2.0.0";
    bool subscribed = false;
    (*self)
        ->request(pubsub.shards.shard_for("room:x"), 5s, atoms::subscribe::value,
                  std::string("room:x"),
                  subscription{1, member, wire::serializer_for_vsn(&vsn), {}, nullptr}, frame{})
        .receive([&](caf::ok_atom) { subscribed = true; }, [](caf::error&) {});
    REQUIRE(subscribed);
  }
  ~presence_fixture() {
    (*self)->send_exit(presence.owner, caf::exit_reason::user_shutdown);
    (*self)->send_exit(pubsub.owner, caf::exit_reason::user_shutdown);
  }

  // The answer of type T of `to` to (xs...), or its error.
  template <class T, class Handle, class... Ts>
  caf::expected<T> ask_actor(const Handle& to, Ts... xs) {
    caf::expected<T> out = caf::sec::request_timeout;
    (*self)
        ->request(to, 5s, xs...)
        .receive([&](T& v) { out = std::move(v); }, [&](caf::error& e) { out = std::move(e); });
    return out;
  }
  // The (only) shard's answer.
  template <class T, class... Ts>
  caf::expected<T> ask(Ts... xs) {
    return ask_actor<T>(presence.shards.shards().front(), xs...);
  }
  // Reads go through the supervised owner, which asks the topic's shard.
  json::value state_of(const std::string& topic) {
    auto p = ask_actor<payload>(presence.owner, atoms::list::value, topic);
    REQUIRE(p);
    return std::get<json::value>(*p);
  }
  json::value key_of(const std::string& topic, const std::string& key) {
    auto p = ask_actor<payload>(presence.owner, atoms::list::value, topic, key);
    REQUIRE(p);
    return std::get<json::value>(*p);
  }
  std::string track(const caf::actor& owner, const std::string& topic, const std::string& key,
                    json::object m) {
    auto ref = ask<std::string>(atoms::track::value, owner, topic, key,
                                payload{json::value(std::move(m))});
    REQUIRE(ref);
    return *ref;
  }
};

payload meta(json::object o) {
  return payload{json::value(std::move(o))};
}

}  // namespace

TEST_CASE("presence actor: track, list, get_by_key, update, and coalesced diffs to the topic") {
  presence_fixture f(presence::default_max_meta_bytes, 300ms);
  // The first change after a quiet spell goes out at once, and opens a window.
  auto opener = f.sys->spawn(tracked);
  auto opener_ref = f.track(opener, "room:x", "opener", {});
  auto alice = f.sys->spawn(tracked);
  auto ref1 = f.track(alice, "room:x", "alice", {{"a", 1}});
  CHECK_FALSE(f.ask<std::string>(atoms::track::value, alice, std::string("room:x"),
                                 std::string("alice"), meta({})));  // already tracked

  auto state = f.state_of("room:x");
  CHECK(state.as_object().at("alice") ==
        json::parse(R"({"metas":[{"a":1,"phx_ref":")" + ref1 + R"("}]})"));
  CHECK(f.key_of("room:x", "alice") == state.as_object().at("alice"));
  CHECK(f.key_of("room:x", "bob") == json::object{});

  auto ref2 = f.ask<std::string>(atoms::update::value, alice, std::string("room:x"),
                                 std::string("alice"), meta({{"a", 2}}));
  REQUIRE(ref2);
  CHECK(*ref2 != ref1);
  CHECK_FALSE(f.ask<std::string>(atoms::update::value, alice, std::string("room:x"),
                                 std::string("nobody"), meta({})));  // nopresence

  // The opener's diff at once; then alice's track and update within the window it opened: one
  // diff, whose joins hold only the new version (the first one joined and left inside the
  // window, so it cancels out).
  REQUIRE(eventually([&] { return f.member->json_frames().size() == 2; }));
  auto first = f.member->json_frames().front().as_array();
  CHECK(first[3] == "presence_diff");
  CHECK(first[4] == json::parse(R"({"joins":{"opener":{"metas":[{"phx_ref":")" + opener_ref +
                                R"("}]}},"leaves":{}})"));
  auto diff = f.member->json_frames().back().as_array();
  CHECK(diff[4] == json::parse(R"({"joins":{"alice":{"metas":[{"a":2,"phx_ref":")" + *ref2 +
                               R"(","phx_ref_prev":")" + ref1 + R"("}]}},"leaves":{}})"));
  (*f.self)->send_exit(alice, caf::exit_reason::user_shutdown);
  (*f.self)->send_exit(opener, caf::exit_reason::user_shutdown);
}

TEST_CASE("presence actor: a tracked actor that ends leaves, however it ends") {
  presence_fixture f;
  auto alice = f.sys->spawn(tracked);
  auto bob = f.sys->spawn(tracked);
  f.track(alice, "room:x", "alice", {});
  auto bob_ref = f.track(bob, "room:x", "bob", {});
  f.track(bob, "room:y", "bob", {});
  // The joins arrive in one diff or two, as the window falls.
  auto joined = [&] {
    std::set<std::string> keys;
    for (auto& frame : f.member->json_frames())
      for (const auto& [key, p] : frame.as_array()[4].at("joins").as_object()) keys.emplace(key);
    return keys;
  };
  REQUIRE(eventually([&] { return joined() == std::set<std::string>{"alice", "bob"}; }));
  const auto diffs = f.member->json_frames().size();

  (*f.self)->send_exit(bob, caf::exit_reason::kill);  // no untrack: the monitor cleans up
  REQUIRE(eventually([&] { return f.member->json_frames().size() == diffs + 1; }));
  auto leave = f.member->json_frames().back().as_array();
  CHECK(leave[4] == json::parse(R"({"joins":{},"leaves":{"bob":{"metas":[{"phx_ref":")" + bob_ref +
                                R"("}]}}})"));
  CHECK(f.state_of("room:y") == json::object{});
  auto left = f.state_of("room:x").as_object();
  CHECK(left.size() == 1);
  CHECK(left.contains("alice"));

  CHECK(f.ask<caf::ok_atom>(atoms::untrack::value, alice));  // everything alice tracked
  CHECK(f.state_of("room:x") == json::object{});
  (*f.self)->send_exit(alice, caf::exit_reason::user_shutdown);
}

TEST_CASE("presence actor: key plus meta over max_meta_bytes is refused with meta too large") {
  presence_fixture f(64);
  auto alice = f.sys->spawn(tracked);
  // {"s":"..."} is 8 bytes of JSON around the text: "alice" + 8 + 51 = 64 fits, 52 does not.
  auto at_cap = json::object{{"s", std::string(51, 'x')}};
  auto over_cap = json::object{{"s", std::string(52, 'x')}};
  auto refused = f.ask<std::string>(atoms::track::value, alice, std::string("room:x"),
                                    std::string("alice"), meta(over_cap));
  REQUIRE_FALSE(refused);
  CHECK(f.sys->render(refused.error()).find("meta too large") != std::string::npos);
  // A long key counts too.
  CHECK_FALSE(f.ask<std::string>(atoms::track::value, alice, std::string("room:x"),
                                 std::string(100, 'k'), meta({})));
  CHECK(f.state_of("room:x") == json::object{});  // nothing was kept

  auto ref = f.track(alice, "room:x", "alice", at_cap);
  auto update = f.ask<std::string>(atoms::update::value, alice, std::string("room:x"),
                                   std::string("alice"), meta(over_cap));
  REQUIRE_FALSE(update);
  CHECK(f.sys->render(update.error()).find("meta too large") != std::string::npos);
  // The refused update changed nothing: the tracked meta is still the one at the cap.
  CHECK(f.key_of("room:x", "alice") == json::parse(R"({"metas":[{"s":")" + std::string(51, 'x') +
                                                   R"(","phx_ref":")" + ref + R"("}]})"));
  (*f.self)->send_exit(alice, caf::exit_reason::user_shutdown);
}

TEST_CASE("presence actor: the default cap is 4 KB, and 0 means no cap") {
  presence_fixture capped;
  auto alice = capped.sys->spawn(tracked);
  CHECK_FALSE(capped.ask<std::string>(atoms::track::value, alice, std::string("room:x"),
                                      std::string("alice"), meta({{"s", std::string(4096, 'x')}})));
  capped.track(alice, "room:x", "alice", {{"s", std::string(4000, 'x')}});
  (*capped.self)->send_exit(alice, caf::exit_reason::user_shutdown);

  presence_fixture unlimited(0);
  auto bob = unlimited.sys->spawn(tracked);
  unlimited.track(bob, "room:x", "bob", {{"s", std::string(1 << 20, 'x')}});
  (*unlimited.self)->send_exit(bob, caf::exit_reason::user_shutdown);
}

namespace {

// A member's presence as phoenix.js builds it, by phx_ref, from its presence_state and the diffs
// after it; counts what a correct stream never holds.
struct member_view {
  std::set<std::string> refs;
  int repeated_joins = 0;  // a join of a version the member already had
  int unknown_leaves = 0;  // a leave of a version the member never had

  static std::vector<std::string> refs_in(const json::value& presences) {
    std::vector<std::string> out;
    for (const auto& [key, p] : presences.as_object())
      for (const auto& m : p.at("metas").as_array()) out.emplace_back(m.at("phx_ref").as_string());
    return out;
  }

  explicit member_view(const std::vector<json::value>& frames) {
    REQUIRE(!frames.empty());
    REQUIRE(frames.front().as_array()[3] == "presence_state");
    REQUIRE(frames.front().as_array()[0] == "J");  // a push with the member's join_ref
    for (auto& r : refs_in(frames.front().as_array()[4])) refs.insert(r);
    for (std::size_t i = 1; i < frames.size(); ++i) {
      const auto& diff = frames[i].as_array()[4];
      for (auto& r : refs_in(diff.at("joins")))
        if (!refs.insert(r).second) ++repeated_joins;
      for (auto& r : refs_in(diff.at("leaves")))
        if (!refs.erase(r)) ++unknown_leaves;
    }
  }
};

}  // namespace

TEST_CASE("presence: members joining at any moment of churn get a state their diffs continue") {
  presence_fixture f;
  beryl::testing::random_source rng{beryl::testing::run_seed(0, 0xc0a1)};
  static const std::string vsn = "2.0.0";
  const auto* format = wire::serializer_for_vsn(&vsn);
  const auto& shard = f.presence.shards.shard_for("room:x");
  std::vector<caf::actor> alive;
  std::vector<std::shared_ptr<recording_outbox>> members;
  for (int step = 0; step < 400; ++step) {
    auto roll = rng.below(100);
    if (roll < 45 || alive.empty()) {
      alive.push_back(f.sys->spawn(tracked));
      // Not awaited: tracks race with the subscriptions below, as joins do.
      (*f.self)->send(shard, atoms::track::value, alive.back(), std::string("room:x"),
                      "user" + std::to_string(rng.below(20)), meta({{"step", step}}));
    } else if (roll < 85) {
      auto at = rng.below(alive.size());
      (*f.self)->send_exit(alive[at], caf::exit_reason::kill);
      alive.erase(alive.begin() + static_cast<std::ptrdiff_t>(at));
    } else {
      // A join that pushes presence_state: subscribe, then ask the presence shard for it.
      members.push_back(std::make_shared<recording_outbox>());
      std::uint64_t id = 100 + members.size();
      (*f.self)->send(f.pubsub.shards.shard_for("room:x"), atoms::subscribe::value,
                      std::string("room:x"),
                      subscription{id, members.back(), format, {}, nullptr, true}, frame{});
      (*f.self)->send(shard, atoms::state::value, std::string("room:x"), id, ref_t{"J"});
    }
    if (rng.percent(10)) std::this_thread::sleep_for(std::chrono::milliseconds(rng.below(40)));
  }
  REQUIRE(members.size() > 20);
  auto tracker_refs = [&] {
    auto refs = member_view::refs_in(f.state_of("room:x"));
    return std::set<std::string>(refs.begin(), refs.end());
  };
  for (const auto& member : members) {
    // Every member converges on what the tracker holds, with nothing repeated or unknown.
    REQUIRE(eventually([&] { return member_view(member->json_frames()).refs == tracker_refs(); }));
    member_view view(member->json_frames());
    CHECK(view.repeated_joins == 0);
    CHECK(view.unknown_leaves == 0);
  }
  for (const auto& a : alive) (*f.self)->send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("presence: a restarted presence's members do not see the presence it replaced") {
  presence_fixture f;
  auto alice = f.sys->spawn(tracked);
  f.track(alice, "room:x", "alice", {});
  REQUIRE(eventually([&] { return f.member->json_frames().size() == 1; }));  // the join's diff

  // A new presence (as its supervisor would start it) knows nobody: its members get {} although
  // the pubsub shard was told of alice by the old one.
  presence_settings settings;
  settings.diff_interval = 30ms;
  auto restarted = spawn_presence(*f.sys, f.pubsub.shards, settings);
  static const std::string vsn = "2.0.0";
  auto member = std::make_shared<recording_outbox>();
  (*f.self)->send(
      f.pubsub.shards.shard_for("room:x"), atoms::subscribe::value, std::string("room:x"),
      subscription{2, member, wire::serializer_for_vsn(&vsn), {}, nullptr, true}, frame{});
  (*f.self)->send(restarted.shards.shard_for("room:x"), atoms::state::value, std::string("room:x"),
                  std::uint64_t{2}, ref_t{"J"});
  REQUIRE(eventually([&] { return member->json_frames().size() == 1; }));
  CHECK(member->json_frames().front().as_array()[4] == json::object{});
  // A late diff of the old presence is not shown to anyone.
  auto bob = f.sys->spawn(tracked);
  f.track(bob, "room:x", "bob", {});
  std::this_thread::sleep_for(100ms);
  CHECK(member->json_frames().size() == 1);
  (*f.self)->send_exit(restarted.owner, caf::exit_reason::user_shutdown);
  (*f.self)->send_exit(alice, caf::exit_reason::user_shutdown);
  (*f.self)->send_exit(bob, caf::exit_reason::user_shutdown);
}
