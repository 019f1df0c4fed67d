// Restart strategies: which children get a new incarnation when one of them crashes.

#include "supervision_test_support.hpp"

using namespace sup_test;
using beryl::supervision::restart_strategy;

namespace {

std::vector<sv::child_spec> abc(const std::shared_ptr<event_log>& log) {
  return {worker(log, "a"), worker(log, "b"), worker(log, "c")};
}

void crash(caf::actor_system& sys, const std::string& name) {
  auto child = sv::lookup(sys, name);
  REQUIRE(child);
  caf::anon_send(child, fail_atom::value);
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "supervision: one_for_one restarts only the crashed child") {
  auto sup = start({"root", restart_strategy::one_for_one}, abc(events));
  auto a = events->ids("a");
  auto c = events->ids("c");
  crash(sys, "b");
  REQUIRE(eventually([&] { return events->incarnations("b") == 2; }));
  snapshot(sup);  // the supervisor has finished handling the crash
  CHECK(events->ids("a") == a);
  CHECK(events->ids("c") == c);
  CHECK(events->ids("b")[0] != events->ids("b")[1]);
  CHECK(sv::lookup(sys, "b").id() == events->ids("b")[1]);
  CHECK(events->only("stop:") == std::vector<std::string>{"stop:b"});
  CHECK(sv::stop_supervisor(sys, sup, 5s));
}

TEST_CASE_FIXTURE(fixture, "supervision: one_for_all restarts every child") {
  auto sup = start({"root", restart_strategy::one_for_all}, abc(events));
  crash(sys, "b");
  REQUIRE(eventually([&] {
    return events->incarnations("a") == 2 && events->incarnations("b") == 2 &&
           events->incarnations("c") == 2;
  }));
  // The crashed child is gone first, the others are stopped in reverse start order, then all
  // start again in order.
  auto expected = std::vector<std::string>{"start:a", "start:b", "start:c", "stop:b", "stop:c",
                                           "stop:a",  "start:a", "start:b", "start:c"};
  CHECK(events->events() == expected);
  auto snap = snapshot(sup);
  CHECK(child_node(snap, "a").at("restarts").to_number<std::int64_t>() == 1);
  CHECK(child_node(snap, "b").at("restarts").to_number<std::int64_t>() == 1);
  CHECK(child_node(snap, "c").at("restarts").to_number<std::int64_t>() == 1);
  CHECK(sv::stop_supervisor(sys, sup, 5s));
}

TEST_CASE_FIXTURE(fixture, "supervision: rest_for_one restarts the crashed child and later ones") {
  auto sup = start({"root", restart_strategy::rest_for_one}, abc(events));
  auto a = events->ids("a");
  crash(sys, "b");
  REQUIRE(
      eventually([&] { return events->incarnations("b") == 2 && events->incarnations("c") == 2; }));
  snapshot(sup);
  CHECK(events->ids("a") == a);
  auto expected = std::vector<std::string>{"start:a", "start:b", "start:c", "stop:b",
                                           "stop:c",  "start:b", "start:c"};
  CHECK(events->events() == expected);
  auto snap = snapshot(sup);
  CHECK(child_node(snap, "a").at("restarts").to_number<std::int64_t>() == 0);
  CHECK(child_node(snap, "c").at("restarts").to_number<std::int64_t>() == 1);
  CHECK(sv::stop_supervisor(sys, sup, 5s));
}

TEST_CASE_FIXTURE(fixture, "supervision: rest_for_one after a crash of the last child") {
  auto sup = start({"root", restart_strategy::rest_for_one}, abc(events));
  crash(sys, "c");
  REQUIRE(eventually([&] { return events->incarnations("c") == 2; }));
  snapshot(sup);
  CHECK(events->incarnations("a") == 1);
  CHECK(events->incarnations("b") == 1);
  CHECK(sv::stop_supervisor(sys, sup, 5s));
}
