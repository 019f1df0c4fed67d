// Scenario tests of the presence CRDT; presence_property_test.cpp checks the laws at random.
#include "core/presence/codec.hpp"
#include "core/presence/state.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#ifndef BERYL_TEST_TIME_SCALE
#define BERYL_TEST_TIME_SCALE 1  // sanitizer builds set it (tests/CMakeLists.txt)
#endif

namespace json = boost::json;
using namespace beryl::presence;

namespace {

const replica_id node_a{"a@host", "1"};
const replica_id node_b{"b@host", "1"};
const replica_id node_c{"c@host", "1"};
const replica_id observer{"observer", "0"};  // owns nothing, so its extract holds everything

json::object meta(const char* status) {
  return {{"status", status}};
}

std::vector<std::string> refs(const std::vector<entry_ptr>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e->phx_ref);
  std::sort(out.begin(), out.end());
  return out;
}

// Two replicas that know each other.
struct pair_of_nodes {
  state a{node_a};
  state b{node_b};
  pair_of_nodes() {
    a.replica_up(node_b);
    b.replica_up(node_a);
  }
};

}  // namespace

TEST_CASE("presence: track returns the new entry and its join; tracking it again fails") {
  state s(node_a);
  auto result = s.track("pid1", "room:lobby", "alice", meta("away"));
  REQUIRE(result.status == op_status::ok);
  CHECK(result.entry->tag == dot{node_a, 1});
  CHECK(result.entry->meta == meta("away"));
  CHECK_FALSE(result.entry->phx_ref_prev);
  REQUIRE(result.changes.size() == 1);
  CHECK(result.changes["room:lobby"].joins == std::vector<entry_ptr>{result.entry});
  CHECK(result.changes["room:lobby"].leaves.empty());

  auto again = s.track("pid1", "room:lobby", "alice", meta("online"));
  CHECK(again.status == op_status::already_tracked);
  CHECK_FALSE(again.entry);
  CHECK(again.changes.empty());
  CHECK(s.list("room:lobby") == std::vector<entry_ptr>{result.entry});

  // The same process may track other keys and topics.
  CHECK(s.track("pid1", "room:lobby", "alice2", meta("x")).status == op_status::ok);
  CHECK(s.track("pid1", "room:other", "alice", meta("x")).status == op_status::ok);
  CHECK(s.list("room:lobby").size() == 2);
}

TEST_CASE("presence: update of an untracked entry fails; untrack of one is a no-op") {
  state s(node_a);
  auto result = s.update("pid1", "room:lobby", "alice", meta("x"));
  CHECK(result.status == op_status::nopresence);
  CHECK(result.changes.empty());
  CHECK(s.untrack("pid1", "room:lobby", "alice").empty());
  CHECK(s.untrack_all("pid1").empty());
  CHECK(s.clock() == 0);
  CHECK_FALSE(s.has_delta());
}

TEST_CASE(
    "presence: update is one diff: the new version joins with phx_ref_prev, the old one leaves") {
  state s(node_a);
  auto first = s.track("pid1", "room:lobby", "alice", meta("away")).entry;
  auto result = s.update("pid1", "room:lobby", "alice", meta("online"));
  REQUIRE(result.status == op_status::ok);
  auto second = result.entry;
  CHECK(second->phx_ref != first->phx_ref);
  CHECK(second->phx_ref_prev == first->phx_ref);
  CHECK(second->meta == meta("online"));
  CHECK(result.changes["room:lobby"].joins == std::vector<entry_ptr>{second});
  CHECK(result.changes["room:lobby"].leaves == std::vector<entry_ptr>{first});
  CHECK(s.list("room:lobby") == std::vector<entry_ptr>{second});
  CHECK(s.get_local("pid1", "room:lobby", "alice") == second);
}

TEST_CASE("presence: every local operation bumps the clock, removals included (beryl flaw, §4.1)") {
  state s(node_a);
  s.track("pid1", "t", "k", {});
  CHECK(s.clock() == 1);
  s.untrack("pid1", "t", "k");
  CHECK(s.clock() == 2);  // beryl's leave deleted only: no dot, no marker
  s.track("pid1", "t", "k", {});
  s.update("pid1", "t", "k", {});
  CHECK(s.clock() == 5);  // the removal of the old version, then the new version

  auto d = s.take_delta();
  // Dots 1..5 were all produced; 1 and 3 are removal markers (no value), 2 and 4 bare bumps.
  CHECK(d.clouds.at(node_a) == std::set<std::uint64_t>{1, 2, 3, 4, 5});
  REQUIRE(d.values.size() == 1);
  CHECK(d.values.begin()->first == dot{node_a, 5});
  CHECK(d.start.at(node_a) == 0);
  CHECK(d.end.at(node_a) == 5);

  // The next delta starts where this one ended.
  CHECK_FALSE(s.has_delta());
  s.untrack_all("pid1");
  auto next = s.take_delta();
  CHECK(next.start.at(node_a) == 5);
  CHECK(next.end.at(node_a) == 6);
  CHECK(next.clouds.at(node_a) == std::set<std::uint64_t>{5, 6});
  CHECK(next.values.empty());
}

TEST_CASE(
    "presence: list and get_by_key read one topic; untrack_all removes every entry of a pid") {
  state s(node_a);
  s.track("pid1", "room:1", "alice", meta("a"));
  s.track("pid2", "room:1", "alice", meta("b"));
  s.track("pid3", "room:1", "bob", meta("c"));
  s.track("pid1", "room:2", "alice", meta("d"));
  CHECK(s.list("room:1").size() == 3);
  CHECK(s.list("room:2").size() == 1);
  CHECK(s.list("room:3").empty());
  auto alices = s.get_by_key("room:1", "alice");
  REQUIRE(alices.size() == 2);
  for (const auto& e : alices) CHECK(e->key == "alice");
  CHECK(s.get_by_key("room:1", "bob").size() == 1);
  CHECK(s.get_by_key("room:1", "al").empty());

  auto left = s.untrack_all("pid1");
  CHECK(left.size() == 2);
  CHECK(left["room:1"].leaves.size() == 1);
  CHECK(left["room:2"].leaves.size() == 1);
  CHECK(s.list("room:2").empty());
  CHECK(s.get_by_key("room:1", "alice").size() == 1);
  CHECK(s.get_local("pid1", "room:1", "alice") == nullptr);
}

TEST_CASE(
    "presence: phx_ref is 16 URL-safe characters, unique per version, equal on every replica") {
  auto ref = phx_ref_of(dot{node_a, 1});
  CHECK(ref.size() == 16);
  CHECK(ref.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(ref == phx_ref_of(dot{replica_id{"a@host", "1"}, 1}));
  CHECK(ref != phx_ref_of(dot{node_a, 2}));
  CHECK(ref != phx_ref_of(dot{replica_id{"a@host", "2"}, 1}));  // a restart is another replica
  CHECK(phx_ref_of(dot{{"ab", "c"}, 1}) != phx_ref_of(dot{{"a", "bc"}, 1}));

  pair_of_nodes n;
  auto tracked = n.a.track("pid1", "t", "k", {}).entry;
  n.b.merge(n.a.take_delta());
  REQUIRE(n.b.list("t").size() == 1);
  CHECK(n.b.list("t")[0]->phx_ref == tracked->phx_ref);
}

TEST_CASE("presence: pids are scoped to their replica: equal pids on two nodes are two entries") {
  pair_of_nodes n;
  n.a.track("7", "t", "k", meta("on a"));
  n.b.track("7", "t", "k", meta("on b"));
  n.b.merge(n.a.take_delta());
  CHECK(n.b.list("t").size() == 2);
  CHECK(n.b.get_local("7", "t", "k")->meta == meta("on b"));
  // Untracking the local pid leaves the remote one alone.
  auto left = n.b.untrack_all("7");
  REQUIRE(left["t"].leaves.size() == 1);
  CHECK(left["t"].leaves[0]->tag.replica == node_b);
  REQUIRE(n.b.list("t").size() == 1);
  CHECK(n.b.list("t")[0]->meta == meta("on a"));
}

TEST_CASE("presence: data of a replica never marked up is ignored (known-replica filtering)") {
  state a(node_a);
  state b(node_b);
  a.track("pid1", "t", "k", {});
  auto d = a.take_delta();
  CHECK(b.merge(d).empty());
  CHECK(b.merge(a.extract(node_b)).empty());
  CHECK(b.list("t").empty());
  CHECK(b.causality().context.count(node_a) == 0);  // nothing observed either
  CHECK_FALSE(b.status(node_a));

  REQUIRE(b.replica_up(node_a));
  CHECK(b.status(node_a) == replica_status::up);
  auto joined = b.merge(d);
  CHECK(joined["t"].joins.size() == 1);
  CHECK(b.list("t").size() == 1);
}

TEST_CASE("presence: deltas carry joins, leaves and updates to a peer") {
  pair_of_nodes n;
  auto tracked = n.a.track("pid1", "t", "k", meta("away")).entry;
  auto joins = n.b.merge(n.a.take_delta());
  CHECK(joins["t"].joins.size() == 1);
  CHECK(joins["t"].leaves.empty());

  auto updated = n.a.update("pid1", "t", "k", meta("online")).entry;
  auto update = n.b.merge(n.a.take_delta());
  REQUIRE(update["t"].joins.size() == 1);
  REQUIRE(update["t"].leaves.size() == 1);
  CHECK(update["t"].joins[0]->phx_ref == updated->phx_ref);
  CHECK(update["t"].joins[0]->phx_ref_prev == tracked->phx_ref);
  CHECK(update["t"].leaves[0]->phx_ref == tracked->phx_ref);

  n.a.untrack("pid1", "t", "k");
  auto leaves = n.b.merge(n.a.take_delta());
  REQUIRE(leaves["t"].leaves.size() == 1);
  CHECK(leaves["t"].leaves[0]->phx_ref == updated->phx_ref);
  CHECK(n.b.list("t").empty());
  CHECK(n.b.causality().context.at(node_a) == n.a.clock());  // contiguous deltas compact
}

TEST_CASE("presence: a removal learnt from a peer travels on in this replica's next delta") {
  pair_of_nodes n;
  state c(node_c);  // hears from B only
  c.replica_up(node_a);
  c.replica_up(node_b);
  n.a.track("pid1", "t", "k", {});
  auto add = n.a.take_delta();
  n.b.merge(add);
  c.merge(add);
  n.b.take_delta();
  n.a.untrack("pid1", "t", "k");
  n.b.merge(n.a.take_delta());
  REQUIRE(n.b.has_delta());
  CHECK(c.merge(n.b.take_delta())["t"].leaves.size() == 1);
  CHECK(c.list("t").empty());
}

TEST_CASE("presence: a lost delta leaves a gap in the clouds until a full state fills it") {
  pair_of_nodes n;
  n.a.track("pid1", "t", "k1", {});
  auto lost = n.a.take_delta();
  n.a.track("pid2", "t", "k2", {});
  n.b.merge(n.a.take_delta());
  CHECK(n.b.causality().context.at(node_a) == 0);
  CHECK(n.b.causality().clouds.at(node_a) == std::set<std::uint64_t>{2});
  CHECK(n.b.list("t").size() == 1);

  auto filled = n.b.merge(n.a.extract(node_b));
  CHECK(filled["t"].joins.size() == 1);
  CHECK(n.b.list("t").size() == 2);
  CHECK(n.b.causality().context.at(node_a) == 2);
  CHECK(n.b.causality().clouds.count(node_a) == 0);
  CHECK(n.b.merge(lost).empty());  // late and already known
}

TEST_CASE("presence: a removal marker that overtakes its add keeps the entry out") {
  pair_of_nodes n;
  n.a.track("pid1", "t", "k", {});
  auto add = n.a.take_delta();
  n.a.untrack("pid1", "t", "k");
  auto removal = n.a.take_delta();
  CHECK(n.b.merge(removal).empty());
  CHECK(n.b.merge(add).empty());
  CHECK(n.b.list("t").empty());
  CHECK(n.b.causality().context.at(node_a) == 2);
}

TEST_CASE(
    "presence: a lost removal leaves no ghost: a newer version of the slot replaces the older") {
  pair_of_nodes n;
  state c(node_c);  // a third replica that saw only the first version
  c.replica_up(node_a);
  n.b.replica_up(node_c);
  auto first = n.a.track("pid1", "t", "k", meta("1")).entry;
  auto first_delta = n.a.take_delta();
  n.b.merge(first_delta);
  c.merge(first_delta);
  n.a.untrack("pid1", "t", "k");
  n.a.take_delta();  // lost: it carried the removal marker of the first version
  auto second = n.a.track("pid1", "t", "k", meta("2")).entry;

  auto changes = n.b.merge(n.a.take_delta());
  REQUIRE(changes["t"].joins.size() == 1);
  REQUIRE(changes["t"].leaves.size() == 1);
  CHECK(changes["t"].joins[0]->phx_ref == second->phx_ref);
  CHECK(changes["t"].leaves[0]->phx_ref == first->phx_ref);
  CHECK(n.b.list("t") == std::vector<entry_ptr>{second});

  // The stale replica's full state cannot bring the first version back, even once the second
  // one is gone too.
  CHECK(n.b.merge(c.extract(node_b)).empty());
  n.a.untrack("pid1", "t", "k");
  CHECK(n.b.merge(n.a.take_delta())["t"].leaves.size() == 1);
  CHECK(n.b.merge(c.extract(node_b)).empty());
  CHECK(n.b.list("t").empty());
}

TEST_CASE("presence: an older version from a stale peer never replaces or outlives a newer one") {
  pair_of_nodes n;
  state c(node_c);
  c.replica_up(node_a);
  n.b.replica_up(node_c);
  n.a.track("pid1", "t", "k", meta("1"));
  c.merge(n.a.take_delta());  // only C sees the first version
  n.a.untrack("pid1", "t", "k");
  n.a.take_delta();  // lost
  auto second = n.a.track("pid1", "t", "k", meta("2")).entry;
  n.b.merge(n.a.take_delta());
  CHECK_FALSE(n.b.causality().contains(dot{node_a, 1}));  // B never heard of the first version

  CHECK(n.b.merge(c.extract(node_b)).empty());
  CHECK(n.b.list("t") == std::vector<entry_ptr>{second});
  CHECK(n.b.causality().contains(dot{node_a, 1}));  // known dead now

  n.a.untrack("pid1", "t", "k");
  n.b.merge(n.a.take_delta());
  CHECK(n.b.merge(c.extract(node_b)).empty());
  CHECK(n.b.list("t").empty());
}

TEST_CASE("presence: an older version arriving after a newer one was removed stays dead") {
  pair_of_nodes n;
  n.a.track("pid1", "t", "k", meta("1"));
  auto first = n.a.take_delta();
  n.a.untrack("pid1", "t", "k");
  auto first_removed = n.a.take_delta();
  n.a.track("pid1", "t", "k", meta("2"));
  auto second = n.a.take_delta();
  n.a.untrack("pid1", "t", "k");
  auto second_removed = n.a.take_delta();

  // Reordered delivery: the newer version and its removal overtake the older version.
  CHECK(n.b.merge(second)["t"].joins.size() == 1);
  CHECK(n.b.merge(second_removed)["t"].leaves.size() == 1);
  CHECK(n.b.merge(first).empty());
  CHECK(n.b.list("t").empty());
  CHECK(n.b.merge(first_removed).empty());
  CHECK(n.b.causality().context.at(node_a) == 4);
}

TEST_CASE(
    "presence: values a peer's context forgot to cover still merge idempotently, never resurrect") {
  state b(node_b);
  b.replica_up(node_a);
  auto version = [](std::uint64_t clock) {
    snapshot s;  // a buggy peer: values without the causal context that should cover them
    dot tag{node_a, clock};
    s.values.emplace(
        tag, std::make_shared<const entry>("t", "k", "pid1", json::object{}, tag, std::nullopt));
    return s;
  };
  CHECK(b.merge(version(3))["t"].joins.size() == 1);
  CHECK(b.merge(version(3)).empty());
  CHECK(b.merge(version(1)).empty());  // older than the held version: dead

  delta removal;
  removal.clouds[node_a] = {3};
  CHECK(b.merge(removal)["t"].leaves.size() == 1);
  CHECK(b.merge(version(1)).empty());
  CHECK(b.merge(version(3)).empty());
  CHECK(b.list("t").empty());
}

TEST_CASE(
    "presence: add wins: a re-track concurrent with the removal of the old version survives") {
  pair_of_nodes n;
  state c(node_c);
  for (auto* s : {&n.a, &n.b}) s->replica_up(node_c);
  c.replica_up(node_a);
  c.replica_up(node_b);
  n.a.track("pid1", "t", "k", {});
  auto add = n.a.take_delta();
  n.b.merge(add);
  c.merge(add);
  n.a.untrack("pid1", "t", "k");
  auto retracked = n.a.track("pid1", "t", "k", {}).entry;
  auto remove_and_add = n.a.take_delta();

  // B learns from A; C, still holding the old version, then merges B's state and A's delta in
  // either order.
  n.b.merge(remove_and_add);
  state c2 = c;
  c.merge(n.b.extract(node_c));
  c.merge(remove_and_add);
  c2.merge(remove_and_add);
  c2.merge(n.b.extract(node_c));
  for (auto* s : {&n.b, &c, &c2}) CHECK(s->list("t") == std::vector<entry_ptr>{retracked});
}

TEST_CASE(
    "presence: a merge never removes own entries nor imports entries with the own replica's tag") {
  pair_of_nodes n;
  auto mine = n.a.track("pid1", "t", "k", {}).entry;
  n.b.merge(n.a.take_delta());

  // A peer that covers A's dot without the entry cannot remove it: A is authoritative.
  snapshot forged = n.b.extract(node_a);
  forged.causality.context[node_a] = 10;
  forged.values.clear();
  CHECK(n.a.merge(forged).empty());
  CHECK(n.a.list("t") == std::vector<entry_ptr>{mine});

  // Nor can one hand A an entry carrying A's tag that A did not create.
  snapshot impostor = n.b.extract(node_a);
  dot fake{node_a, 11};
  impostor.values.emplace(
      fake, std::make_shared<const entry>("t", "k2", "pid9", json::object{}, fake, std::nullopt));
  impostor.causality.clouds[node_a].insert(11);
  CHECK(n.a.merge(impostor).empty());
  CHECK(n.a.list("t") == std::vector<entry_ptr>{mine});
}

TEST_CASE(
    "presence: own dots seen at a peer push the next clock past them (beryl's next_clock bug)") {
  pair_of_nodes n;
  n.a.track("pid1", "t", "k", {});
  snapshot echo = n.b.extract(node_a);  // e.g. from a peer that heard of a clashing incarnation
  echo.causality.clouds[node_a] = {5};
  n.a.merge(echo);
  CHECK(n.a.clock() == 5);
  CHECK(n.a.track("pid2", "t", "k", {}).entry->tag.clock == 6);
}

TEST_CASE("presence: a removed version is remembered: a stale full state cannot re-add it") {
  pair_of_nodes n;
  state c(node_c);
  c.replica_up(node_a);
  n.b.replica_up(node_c);
  n.a.track("pid1", "t", "k1", {});
  c.merge(n.a.take_delta());  // B misses it: a gap below the next dots
  n.a.track("pid2", "t", "k2", {});
  auto d2 = n.a.take_delta();
  n.b.merge(d2);
  c.merge(d2);
  n.a.untrack("pid2", "t", "k2");
  CHECK(n.b.merge(n.a.take_delta())["t"].leaves.size() == 1);
  CHECK(n.b.causality().contains(dot{node_a, 2}));

  auto changes = n.b.merge(c.extract(node_b));  // C still holds k2
  CHECK(changes["t"].joins.size() == 1);
  CHECK(changes["t"].leaves.empty());
  REQUIRE(n.b.list("t").size() == 1);
  CHECK(n.b.list("t")[0]->key == "k1");
}

TEST_CASE(
    "presence: replica down hides its entries and keeps them; up restores them with the same "
    "refs") {
  pair_of_nodes n;
  n.a.track("pid1", "t", "k1", {});
  n.a.track("pid2", "t", "k2", {});
  n.b.track("pid3", "t", "k3", {});
  n.b.merge(n.a.take_delta());

  auto down = n.b.replica_down(node_a);
  CHECK(n.b.status(node_a) == replica_status::down);
  REQUIRE(down["t"].leaves.size() == 2);
  CHECK(down["t"].joins.empty());
  CHECK(n.b.list("t").size() == 1);
  CHECK(n.b.get_by_key("t", "k1").empty());
  CHECK(n.b.clocks().count(node_a) == 0);   // down replicas are left out of transfer requests
  CHECK(n.b.replica_down(node_a).empty());  // already down

  // Changes made while down are merged but stay hidden and unreported.
  auto expected = refs(n.b.list("t"));
  expected.push_back(n.a.get_local("pid1", "t", "k1")->phx_ref);
  std::sort(expected.begin(), expected.end());
  n.a.untrack("pid2", "t", "k2");
  CHECK(n.b.merge(n.a.take_delta()).empty());

  auto up = n.b.replica_up(node_a);
  REQUIRE(up);
  REQUIRE((*up)["t"].joins.size() == 1);
  CHECK((*up)["t"].joins[0]->phx_ref == down["t"].leaves[0]->phx_ref);
  CHECK((*up)["t"].leaves.empty());
  CHECK(refs(n.b.list("t")) == expected);
  CHECK(n.b.replica_up(node_a)->empty());  // already up
}

TEST_CASE("presence: permdown is final: stale states and deltas never resurrect that incarnation") {
  pair_of_nodes n;
  state c(node_c);
  c.replica_up(node_a);
  n.b.replica_up(node_c);
  n.a.track("pid1", "t", "k", {});
  auto d = n.a.take_delta();
  n.b.merge(d);
  c.merge(d);

  auto gone = n.b.permdown(node_a);
  CHECK(gone["t"].leaves.size() == 1);
  CHECK(n.b.list("t").empty());
  CHECK(n.b.is_retired(node_a));
  CHECK_FALSE(n.b.status(node_a));
  CHECK(n.b.causality().context.count(node_a) == 0);

  CHECK(n.b.merge(d).empty());
  CHECK(n.b.merge(n.a.extract(node_b)).empty());
  CHECK(n.b.merge(c.extract(node_b)).empty());
  CHECK_FALSE(n.b.replica_up(node_a));  // a late heartbeat of the dead incarnation is refused
  CHECK(n.b.merge(d).empty());
  CHECK(n.b.list("t").empty());
  CHECK(n.b.extract(observer).values.empty());
}

TEST_CASE(
    "presence: a restarted node is a new replica: no resurrection, and its new entries count") {
  // beryl reused the replica name: a restart reset the clock, so peers ignored the new entries
  // (old tags) and the node re-imported its own dead entries from peers.
  const replica_id a1{"a@host", "1"};
  const replica_id a2{"a@host", "2"};
  state old_a(a1);
  state b(node_b);
  b.replica_up(a1);
  old_a.track("pid1", "t", "gone", {});
  old_a.track("pid2", "t", "kept", {});
  b.merge(old_a.take_delta());
  old_a.untrack("pid1", "t", "gone");  // its delta is lost: the node crashes

  state new_a(a2);
  new_a.replica_up(node_b);
  auto fresh = new_a.track("pid1", "t", "back", {}).entry;
  CHECK(fresh->tag.clock == 1);  // the same clock as a dead entry of the old incarnation

  // The restarted node does not import its old self's entries from B.
  CHECK(new_a.merge(b.extract(a2)).empty());
  CHECK(new_a.list("t") == std::vector<entry_ptr>{fresh});

  // B drops the old incarnation and takes the new one's entries, despite equal clocks.
  b.permdown(a1);
  b.replica_up(a2);
  auto changes = b.merge(new_a.take_delta());
  REQUIRE(changes["t"].joins.size() == 1);
  CHECK(changes["t"].joins[0]->phx_ref == fresh->phx_ref);
  REQUIRE(b.list("t").size() == 1);
  CHECK(b.list("t")[0]->key == "back");
  CHECK(b.merge(old_a.extract(node_b)).empty());
  CHECK(b.list("t").size() == 1);
}

TEST_CASE(
    "presence: extract leaves out the requester's entries and what the requester does not know") {
  pair_of_nodes n;
  state c(node_c);
  n.a.replica_up(node_c);
  c.replica_up(node_a);
  n.a.track("pid1", "t", "a", {});
  n.b.track("pid2", "t", "b", {});
  c.track("pid3", "t", "c", {});
  n.a.merge(n.b.take_delta());
  n.a.merge(c.take_delta());
  CHECK(n.a.list("t").size() == 3);

  auto for_b = n.a.extract(node_b);
  CHECK(for_b.values.size() == 2);
  for (const auto& [tag, e] : for_b.values) CHECK(tag.replica != node_b);
  CHECK(for_b.causality.context.count(node_b) == 1);  // what A saw of B still counts

  auto pruned = n.a.extract(node_b, n.b.clocks());  // B does not know C
  CHECK(pruned.values.size() == 1);
  CHECK(pruned.causality.context.count(node_c) == 0);
  CHECK(pruned.causality.context.count(node_a) == 1);
}

TEST_CASE("presence: merge_deltas combines contiguous deltas and refuses a gap") {
  state a(node_a);
  a.track("pid1", "t", "k1", {});
  auto d1 = a.take_delta();
  a.untrack("pid1", "t", "k1");
  a.track("pid2", "t", "k2", {});
  auto d2 = a.take_delta();
  a.track("pid3", "t", "k3", {});
  auto d3 = a.take_delta();

  auto d12 = merge_deltas(d1, d2);
  REQUIRE(d12);
  CHECK(d12->start.at(node_a) == 0);
  CHECK(d12->end.at(node_a) == 3);
  CHECK(d12->values.size() == 1);  // k1's add was removed by d2
  CHECK(d12->values.count(dot{node_a, 3}) == 1);
  CHECK(d12->clouds.at(node_a) == std::set<std::uint64_t>{1, 2, 3});
  CHECK(d12->size() == 4);
  CHECK_FALSE(merge_deltas(d1, d3));
  auto all = merge_deltas(*d12, d3);
  REQUIRE(all);
  CHECK(all->values.size() == 2);

  state b(node_b);
  b.replica_up(node_a);
  b.merge(*all);
  CHECK(b.list("t").size() == 2);
  CHECK(b.causality().context.at(node_a) == 4);
}

TEST_CASE(
    "presence: snapshots and deltas round-trip through JSON text; malformed text is refused") {
  pair_of_nodes n;
  n.a.track("pid1", "t", "__proto__", json::object{{"nested", json::array{1, "x", nullptr}}});
  n.a.track("pid2", "t:2", "k", {});
  n.a.update("pid2", "t:2", "k", meta("u"));
  n.b.track("pid3", "t", "k", {});
  n.a.merge(n.b.take_delta());
  auto d = n.a.take_delta();
  auto s = n.a.extract(observer);

  auto s_text = encode(s);
  auto decoded = decode_snapshot(s_text);
  REQUIRE(decoded);
  CHECK(encode(*decoded) == s_text);
  CHECK(decoded->causality == s.causality);
  REQUIRE(decoded->values.size() == s.values.size());
  for (const auto& [tag, e] : decoded->values) {
    const auto& original = s.values.at(tag);
    CHECK(e->meta == original->meta);
    CHECK(e->phx_ref == original->phx_ref);
    CHECK(e->phx_ref_prev == original->phx_ref_prev);
  }
  auto d_text = encode(d);
  auto decoded_delta = decode_delta(d_text);
  REQUIRE(decoded_delta);
  CHECK(encode(*decoded_delta) == d_text);

  state c(node_c);
  c.replica_up(node_a);
  c.replica_up(node_b);
  state c2 = c;
  c.merge(s);
  c2.merge(*decoded);
  CHECK(encode(c.extract(observer)) == encode(c2.extract(observer)));

  CHECK_FALSE(decode_snapshot("not json"));
  CHECK_FALSE(decode_snapshot(d_text));  // a delta is not a snapshot
  CHECK_FALSE(decode_delta(s_text));
  CHECK_FALSE(
      decode_snapshot(R"({"context":[],"clouds":[],"values":[["a","1",0,"t","k","p",{},null]]})"));
  CHECK_FALSE(
      decode_snapshot(R"({"context":[],"clouds":[],"values":[["a","1",2,"t","k","p",{},2]]})"));
  CHECK_FALSE(decode_snapshot(R"({"context":[["a","1",-1]],"clouds":[],"values":[]})"));
  CHECK_FALSE(decode_snapshot(R"({"context":[],"clouds":[["a","1",[]]],"values":[]})"));
  CHECK(decode_snapshot(R"({"context":[["a","1",3]],"clouds":[["a","1",[5]]],"values":[]})"));
}

TEST_CASE("presence: 10,000 members on one topic: join, list and leave stay cheap") {
  using clock = std::chrono::steady_clock;
  state s(node_a);
  state peer(node_b);
  peer.replica_up(node_a);
  const int members = 10000;
  auto started = clock::now();
  for (int i = 0; i < members; ++i) {
    s.track("pid" + std::to_string(i), "room:big", "user" + std::to_string(i % 5000), {});
  }
  for (int i = 0; i < 100; ++i) CHECK(s.list("room:big").size() == members);
  peer.merge(s.take_delta());
  for (int i = 0; i < members; i += 2)
    s.untrack("pid" + std::to_string(i), "room:big", "user" + std::to_string(i % 5000));
  auto leaves = peer.merge(s.take_delta());
  auto elapsed = clock::now() - started;
  CHECK(leaves["room:big"].leaves.size() == members / 2);
  CHECK(peer.list("room:big").size() == members / 2);
  CHECK(s.get_by_key("room:big", "user1").size() == 2);
  // Generous bound for a shared machine; a per-operation scan of the table would take seconds
  // (times the sanitizers' slowdown in their builds).
  CHECK(elapsed < std::chrono::seconds(2) * BERYL_TEST_TIME_SCALE);
}
