// Coalescing presence changes as they arrive (core/presence/pending_changes.hpp) and the view of a
// topic that the diffs build (core/presence/topic_view.hpp), against the CRDT's own answers.
#include "core/presence/pending_changes.hpp"
#include "core/presence/topic_view.hpp"
#include "core/presence/wire.hpp"
#include "seeded_random.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace beryl::presence;

namespace {

const replica_id node_a{"a@host", "1"};

std::vector<std::string> refs(const std::vector<entry_ptr>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e->phx_ref);
  return out;
}

}  // namespace

TEST_CASE("pending changes: a version that joins and leaves before the diff cancels out at once") {
  state s(node_a);
  pending_changes pending;
  auto alice = s.track("p1", "room", "alice", {});
  pending.add(alice.changes);
  auto bob = s.track("p2", "room", "bob", {});
  pending.add(bob.changes);
  CHECK(pending.size() == 2);
  pending.add(s.untrack("p1", "room", "alice"));
  CHECK(pending.size() == 1);  // alice's join and leave are gone, not waiting for the diff

  auto out = pending.take_all();
  REQUIRE(out.size() == 1);
  CHECK(refs(out["room"].joins) == std::vector<std::string>{bob.entry->phx_ref});
  CHECK(out["room"].leaves.empty());
  CHECK(pending.empty());
  CHECK(pending.size() == 0);
}

TEST_CASE("pending changes: an update keeps the new version in joins and the known one in leaves") {
  state s(node_a);
  pending_changes pending;
  auto first = s.track("p1", "room", "alice", {});  // announced in an earlier diff
  auto second = s.update("p1", "room", "alice", {{"status", "away"}});
  pending.add(second.changes);
  auto third = s.update("p1", "room", "alice", {{"status", "busy"}});
  pending.add(third.changes);
  // second joined and left inside the window: only first -> third remains, in arrival order.
  auto out = pending.take_all();
  CHECK(refs(out["room"].joins) == std::vector<std::string>{third.entry->phx_ref});
  CHECK(refs(out["room"].leaves) == std::vector<std::string>{first.entry->phx_ref});
}

TEST_CASE("pending changes: a replica going down and up inside the window leaves no trace") {
  state s(node_a);
  state b({"b@host", "1"});
  b.track("q1", "room", "carol", {});
  s.replica_up(b.self());
  s.merge(b.extract(s.self()));  // carol announced before the window
  pending_changes pending;
  pending.add(s.replica_down(b.self()));
  CHECK(pending.size() == 1);
  pending.add(*s.replica_up(b.self()));
  CHECK(pending.empty());
  CHECK(pending.take_all().empty());
}

TEST_CASE("pending changes: topics are apart, and a topic whose changes cancel gets no diff") {
  state s(node_a);
  pending_changes pending;
  auto a = s.track("p1", "one", "alice", {});
  pending.add(a.changes);
  pending.add(s.track("p1", "two", "alice", {}).changes);
  pending.add(s.untrack("p1", "two", "alice"));
  CHECK(pending.has("one"));
  CHECK_FALSE(pending.has("two"));
  auto out = pending.take_all();
  CHECK(out.size() == 1);
  CHECK(refs(out["one"].joins) == std::vector<std::string>{a.entry->phx_ref});
}

TEST_CASE("pending changes: under churn what is held stays within the versions alive") {
  beryl::testing::random_source rng{beryl::testing::run_seed(0, 0x5eed)};
  state s(node_a);
  pending_changes pending;
  std::set<std::string> tracked;
  for (int i = 0; i < 20'000; ++i) {
    auto pid = "p" + std::to_string(rng.below(50));
    if (tracked.count(pid)) {
      pending.add(s.untrack(pid, "room", "k"));
      tracked.erase(pid);
    } else {
      pending.add(s.track(pid, "room", "k", {}).changes);
      tracked.insert(pid);
    }
    // Nothing was announced before: every pending record is a join of a version alive now.
    REQUIRE(pending.size() == tracked.size());
  }
}

TEST_CASE("topic view: the diffs applied in order list what the CRDT lists, as presence_state") {
  beryl::testing::random_source rng{beryl::testing::run_seed(0, 0x5eed)};
  state s(node_a);
  pending_changes pending;
  topic_view view;
  std::map<std::string, std::string> tracked;  // pid -> key
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 10; ++i) {
      auto pid = "p" + std::to_string(rng.below(30));
      auto it = tracked.find(pid);
      if (it == tracked.end()) {
        auto key = "user" + std::to_string(rng.below(8));  // several metas per key
        pending.add(s.track(pid, "room", key, {{"i", i}}).changes);
        tracked.emplace(pid, key);
      } else if (rng.percent(50)) {
        pending.add(s.update(pid, "room", it->second, {{"round", round}}).changes);
      } else {
        pending.add(s.untrack(pid, "room", it->second));
        tracked.erase(it);
      }
    }
    for (const auto& [topic, changes] : pending.take_all()) view.apply(changes);
    auto expected = presence_state_payload(s.list("room"));
    auto listed = json::parse(*view.state_text()).as_object();
    // Same keys and the same metas per key (the order of metas within a key may differ).
    REQUIRE(listed.size() == expected.size());
    for (const auto& [key, presence] : expected) {
      REQUIRE(listed.contains(key));
      auto metas = [](const json::value& p) {
        std::multiset<std::string> out;
        for (const auto& m : p.at("metas").as_array()) out.insert(json::serialize(m));
        return out;
      };
      REQUIRE(metas(listed.at(key)) == metas(presence));
    }
  }
}

TEST_CASE("topic view: the state text is built once per change and shared until the next") {
  state s(node_a);
  topic_view view;
  CHECK(*view.state_text() == "{}");
  auto alice = s.track("p1", "room", "alice", {{"n", 1}});
  view.apply(alice.changes["room"]);
  auto first = view.state_text();
  CHECK(view.state_text() == first);  // the same buffer, not a copy
  CHECK(json::parse(*first) == json::value(presence_state_payload(s.list("room"))));
  view.apply(s.untrack("p1", "room", "alice")["room"]);
  CHECK(view.empty());
  CHECK(*view.state_text() == "{}");
  // A leave of a version the view never held changes nothing.
  auto stranger = s.track("p2", "room", "bob", {});
  view.apply(s.untrack("p2", "room", "bob")["room"]);
  CHECK(view.empty());
}
