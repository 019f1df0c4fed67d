#include "core/cluster/membership.hpp"

#include <doctest/doctest.h>

using namespace beryl::cluster;
using namespace std::chrono_literals;

namespace {

using time_point = membership::time_point;
const time_point t0 = time_point{} + 1h;

membership make(const std::string& address = "127.0.0.1:4000") {
  return membership{{"a", 1, address}, membership_settings{}};
}

const peer_view* find(const std::vector<peer_view>& peers, const std::string& node) {
  for (const auto& p : peers)
    if (p.node == node) return &p;
  return nullptr;
}

}  // namespace

TEST_CASE("a learnt address is dialled once at a time, never our own") {
  auto m = make();
  m.learn_address("127.0.0.1:4000", t0);
  m.learn_address("127.0.0.1:4001", t0);
  CHECK(m.dials_due(t0) == std::vector<std::string>{"127.0.0.1:4001"});
  CHECK(m.dials_due(t0 + 10s).empty());  // still dialling
}

TEST_CASE("failed dials back off, doubling up to retry_max, forever") {
  auto m = make();
  m.learn_address("h:1", t0);
  auto now = t0;
  REQUIRE(m.dials_due(now).size() == 1);
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 9; ++i) {
    m.dial_failed("h:1", now);
    auto failed_at = now;
    while (m.dials_due(now).empty()) now += 10ms;
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now - failed_at));
  }
  CHECK(delays == std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 800ms, 1600ms, 3200ms,
                                                         5000ms, 5000ms, 5000ms});
}

TEST_CASE("an unreachable address is warned about after warn_after, then every warn_every") {
  auto m = make();
  m.learn_address("h:1", t0);
  int warnings = 0;
  auto now = t0;
  while (now < t0 + 125s) {
    if (!m.dials_due(now).empty()) warnings += m.dial_failed("h:1", now);
    now += 50ms;
  }
  // At 5 s, 65 s and 125 s (within the loop: 5 s and 65 s, the third falls at its end).
  CHECK(warnings == 2);
}

TEST_CASE("an admitted peer is up, its address no longer dialled, and gossip lists it") {
  auto m = make();
  m.learn_address("localhost:4001", t0);
  REQUIRE(m.dials_due(t0).size() == 1);
  auto a = m.admit({"b", 7, "127.0.0.1:4001"}, "localhost:4001", t0);
  CHECK(a.came_up);
  CHECK_FALSE(a.replaced);
  CHECK(m.is_up("b", 7));
  CHECK(m.up_count() == 1);
  CHECK(m.dials_due(t0 + 1h).empty());  // neither the alias nor the advertised address
  CHECK(m.known_addresses() == std::vector<std::string>{"127.0.0.1:4001"});
  // The same incarnation admitted again (both sides dialled): nothing new.
  auto again = m.admit({"b", 7, "127.0.0.1:4001"}, "", t0 + 1s);
  CHECK_FALSE(again.came_up);
}

TEST_CASE("a silent peer goes down after down_after; a heartbeat brings it back") {
  auto m = make();
  m.admit({"b", 7, "h:2"}, "", t0);
  CHECK_FALSE(m.heartbeat("b", 7, t0 + 1s));
  CHECK(m.silent_peers_down(t0 + 3999ms).empty());
  CHECK(m.silent_peers_down(t0 + 4s) == std::vector<std::string>{"b"});
  CHECK_FALSE(m.is_up("b", 7));
  CHECK(m.silent_peers_down(t0 + 10s).empty());  // reported once
  auto peers = m.peers(t0 + 5s);
  REQUIRE(find(peers, "b"));
  CHECK(find(peers, "b")->status == peer_status::down);
  CHECK(find(peers, "b")->since_heartbeat == 4s);
  CHECK(m.heartbeat("b", 7, t0 + 6s));
  CHECK(m.is_up("b", 7));
  CHECK_FALSE(m.heartbeat("b", 8, t0 + 6s));  // another incarnation's, never admitted
}

TEST_CASE("a lost connection is down at once and its address is dialled again") {
  auto m = make();
  m.learn_address("h:2", t0);
  REQUIRE(m.dials_due(t0).size() == 1);
  m.admit({"b", 7, "h:2"}, "h:2", t0);
  m.connection_lost("b", 7, t0 + 1s);
  CHECK_FALSE(m.is_up("b", 7));
  CHECK_FALSE(m.heartbeat("b", 7, t0 + 1s));  // a late heartbeat of the lost connection
  CHECK(m.dials_due(t0 + 1s).empty());
  CHECK(m.dials_due(t0 + 1100ms) == std::vector<std::string>{"h:2"});
  // A loss reported for an incarnation already replaced changes nothing.
  m.admit({"b", 8, "h:2"}, "h:2", t0 + 2s);
  m.connection_lost("b", 7, t0 + 2s);
  CHECK(m.is_up("b", 8));
}

TEST_CASE("a restarted node (same name, new incarnation) replaces the old one") {
  auto m = make();
  m.admit({"b", 7, "h:2"}, "", t0);
  auto a = m.admit({"b", 9, "h:2"}, "", t0 + 1s);
  CHECK(a.came_up);
  REQUIRE(a.replaced);
  CHECK(*a.replaced == 7);
  CHECK(m.is_up("b", 9));
  CHECK_FALSE(m.is_up("b", 7));
  CHECK(m.peers(t0 + 1s).size() == 1);
}
