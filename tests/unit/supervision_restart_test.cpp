// Restart types and restart intensity (including escalation to the parent supervisor).

#include "supervision_test_support.hpp"

#include "supervision/restart_intensity.hpp"

using namespace sup_test;
using beryl::supervision::restart_strategy;
using beryl::supervision::restart_type;
using beryl::supervision::supervision_errc;

TEST_CASE("supervision: restart_intensity allows max_restarts within a sliding window") {
  using clock = sv::restart_intensity::clock;
  auto t0 = clock::now();
  sv::restart_intensity burst{2, std::chrono::seconds(1)};
  CHECK(burst.record(t0));
  CHECK(burst.record(t0 + 100ms));
  CHECK_FALSE(burst.record(t0 + 200ms));  // the third within 1 s

  sv::restart_intensity spread{2, std::chrono::seconds(1)};
  CHECK(spread.record(t0));
  CHECK(spread.record(t0 + 600ms));
  CHECK(spread.record(t0 + 1200ms));  // t0 has left the window
  CHECK(spread.recent() == 2);
  CHECK_FALSE(spread.record(t0 + 1300ms));  // 600, 1200, 1300 ms

  sv::restart_intensity none{0, std::chrono::seconds(1)};
  CHECK_FALSE(none.record(t0));
}

TEST_CASE("supervision: restart decisions by restart type and exit reason") {
  auto crash = caf::make_error(caf::sec::runtime_error, "boom");
  CHECK(sv::should_restart(restart_type::permanent, caf::error{}));
  CHECK(sv::should_restart(restart_type::permanent, caf::exit_reason::user_shutdown));
  CHECK(sv::should_restart(restart_type::permanent, crash));
  CHECK_FALSE(sv::should_restart(restart_type::transient, caf::error{}));
  CHECK_FALSE(sv::should_restart(restart_type::transient, caf::exit_reason::user_shutdown));
  CHECK(sv::should_restart(restart_type::transient, crash));
  CHECK(sv::should_restart(restart_type::transient, caf::exit_reason::kill));
  CHECK_FALSE(sv::should_restart(restart_type::temporary, crash));
}

TEST_CASE_FIXTURE(fixture, "supervision: permanent and transient and temporary children") {
  auto sup = start({"root", restart_strategy::one_for_one, 10},
                   {worker(events, "perm"), worker(events, "trans_ok", restart_type::transient),
                    worker(events, "trans_crash", restart_type::transient),
                    worker(events, "temp", restart_type::temporary)});
  auto total_incarnations = [&] {
    std::size_t n = 0;
    for (auto name : {"perm", "trans_ok", "trans_crash", "temp"}) n += events->incarnations(name);
    return n;
  };

  SUBCASE("permanent: restarted even after a normal exit") {
    caf::anon_send(sv::lookup(sys, "perm"), finish_atom::value);
    REQUIRE(eventually([&] { return events->incarnations("perm") == 2; }));
    CHECK(child_node(snapshot(sup), "perm").at("state") == "running");
    CHECK(total_incarnations() == 5);
  }
  SUBCASE("transient: not restarted after a normal exit") {
    caf::anon_send(sv::lookup(sys, "trans_ok"), finish_atom::value);
    REQUIRE(
        eventually([&] { return child_node(snapshot(sup), "trans_ok").at("state") == "stopped"; }));
    CHECK(events->incarnations("trans_ok") == 1);
    CHECK_FALSE(sv::lookup(sys, "trans_ok"));
    CHECK(total_incarnations() == 4);
  }
  SUBCASE("transient: restarted after a crash") {
    caf::anon_send(sv::lookup(sys, "trans_crash"), fail_atom::value);
    REQUIRE(eventually([&] { return events->incarnations("trans_crash") == 2; }));
    CHECK(child_node(snapshot(sup), "trans_crash").at("restarts") == 1);
    CHECK(total_incarnations() == 5);
  }
  SUBCASE("temporary: never restarted, even after a crash") {
    caf::anon_send(sv::lookup(sys, "temp"), fail_atom::value);
    REQUIRE(eventually([&] { return child_node(snapshot(sup), "temp").at("state") == "stopped"; }));
    CHECK(events->incarnations("temp") == 1);
    auto node = child_node(snapshot(sup), "temp");
    CHECK(node.at("restarts") == 0);
    CHECK(str(node.at("last_exit_reason")).find("test failure") != std::string::npos);
    CHECK(total_incarnations() == 4);
  }
  CHECK(sv::stop_supervisor(sys, sup, 5s));
}

TEST_CASE_FIXTURE(fixture, "supervision: too many restarts make the supervisor give up") {
  auto sup = start({"root", restart_strategy::one_for_one, 2, std::chrono::seconds(10)},
                   {worker(events, "a"), worker(events, "b"), worker(events, "c")});
  for (std::size_t n = 1; n <= 2; ++n) {
    caf::anon_send(sv::lookup(sys, "b"), fail_atom::value);
    REQUIRE(eventually([&] { return events->incarnations("b") == n + 1; }));
  }
  caf::anon_send(sv::lookup(sys, "b"), fail_atom::value);  // the third restart within 10 s
  auto down = wait_down(sys, sup);
  REQUIRE(down.down);
  CHECK(down.reason == supervision_errc::restart_intensity_exceeded);
  auto text = sys.render(down.reason);
  CHECK(text.find("'root'") != std::string::npos);
  CHECK(text.find("'b'") != std::string::npos);
  // Every child is dead, the remaining ones stopped in reverse order, nothing restarted again.
  CHECK(events->incarnations("b") == 3);
  CHECK(events->only("stop:").size() == 5);  // b three times, then c and a
  auto stops = events->only("stop:");
  CHECK(std::vector<std::string>(stops.end() - 2, stops.end()) ==
        std::vector<std::string>{"stop:c", "stop:a"});
  CHECK_FALSE(sv::lookup(sys, "a"));
  CHECK_FALSE(sv::lookup(sys, "c"));
  CHECK(logs.has_line_with({"supervisor 'root' gave up", "more than 2 restarts"}));
}

TEST_CASE_FIXTURE(fixture,
                  "supervision: a child supervisor that gives up is restarted by its parent") {
  auto inner =
      sv::supervisor_spec({"inner", restart_strategy::one_for_one, 1}, {worker(events, "x")});
  inner.registered = true;
  auto root = start({"root", restart_strategy::one_for_one, 5}, {worker(events, "w"), inner});
  auto first_inner = sv::lookup(sys, "inner");
  REQUIRE(first_inner);

  caf::anon_send(sv::lookup(sys, "x"), fail_atom::value);
  REQUIRE(eventually([&] { return events->incarnations("x") == 2; }));
  caf::anon_send(sv::lookup(sys, "x"), fail_atom::value);  // the inner supervisor's 2nd restart

  auto down = wait_down(sys, first_inner);
  REQUIRE(down.down);
  CHECK(down.reason == supervision_errc::restart_intensity_exceeded);
  // The root applies its own strategy: a new inner supervisor with a new x; w is untouched.
  REQUIRE(eventually([&] { return events->incarnations("x") == 3; }));
  REQUIRE(eventually([&] {
    auto now = sv::lookup(sys, "inner");
    return now && now != first_inner;
  }));
  auto snap = snapshot(root);
  auto& node = child_node(snap, "inner");
  CHECK(node.at("restarts") == 1);
  CHECK(str(node.at("last_exit_reason")).find("restart_intensity_exceeded") != std::string::npos);
  CHECK(child_node(node, "x").at("restarts") == 0);  // a fresh supervisor, fresh counters
  CHECK(events->incarnations("w") == 1);
  CHECK(sv::stop_supervisor(sys, root, 5s));
}
