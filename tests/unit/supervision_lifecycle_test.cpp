// Start order, shutdown order, failing starts, shutdown timeouts and names.

#include "supervision_test_support.hpp"

using namespace sup_test;
using beryl::supervision::restart_strategy;
using beryl::supervision::shutdown_policy;
using beryl::supervision::supervision_errc;

namespace {

sv::child_spec failing_child(const std::string& name) {
  return sv::worker_spec(name, [](caf::local_actor*) -> caf::actor {
    throw std::runtime_error("database unavailable");
  });
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "supervision: children start in order and stop in reverse order") {
  auto inner = sv::supervisor_spec({"inner", restart_strategy::one_for_all},
                                   {worker(events, "x"), worker(events, "y")});
  auto root = start({"root", restart_strategy::rest_for_one},
                    {worker(events, "a"), inner, worker(events, "c")});
  // The root waits for the inner supervisor's children before it starts c.
  CHECK(events->only("start:") ==
        std::vector<std::string>{"start:a", "start:x", "start:y", "start:c"});
  CHECK(sv::stop_supervisor(sys, root, 5s));
  CHECK(events->only("stop:") == std::vector<std::string>{"stop:c", "stop:y", "stop:x", "stop:a"});
  CHECK(events->last_reason("a") == caf::exit_reason::user_shutdown);
  CHECK(logs.has_line_with({"supervisor 'root'", "stopped child 'inner'"}));
}

TEST_CASE_FIXTURE(fixture, "supervision: a failing start aborts the supervisor's start") {
  SUBCASE("start function throws") {
    auto result = sv::start_supervisor(
        sys, {"root"}, {worker(events, "a"), failing_child("b"), worker(events, "c")}, 5s);
    REQUIRE_FALSE(result);
    CHECK(result.error() == supervision_errc::start_failed);
    auto text = sys.render(result.error());
    CHECK(text.find("supervisor 'root' could not start") != std::string::npos);
    CHECK(text.find("child 'b' failed to start: database unavailable") != std::string::npos);
    // a was already stopped when start_supervisor returned; c never started.
    CHECK(events->events() == std::vector<std::string>{"start:a", "stop:a"});
  }
  SUBCASE("start function returns an invalid handle") {
    auto invalid = sv::worker_spec("b", [](caf::local_actor*) { return caf::actor{}; });
    auto result = sv::start_supervisor(sys, {"root"}, {worker(events, "a"), invalid}, 5s);
    REQUIRE_FALSE(result);
    CHECK(sys.render(result.error())
              .find("child 'b' failed to start: start function returned an "
                    "invalid handle") != std::string::npos);
    CHECK(events->events() == std::vector<std::string>{"start:a", "stop:a"});
  }
  SUBCASE("a child supervisor fails to start") {
    auto inner = sv::supervisor_spec({"inner"}, {worker(events, "x"), failing_child("bad")});
    auto result =
        sv::start_supervisor(sys, {"root"}, {worker(events, "a"), inner, worker(events, "c")}, 5s);
    REQUIRE_FALSE(result);
    auto text = sys.render(result.error());
    INFO(text);
    CHECK(text.find("child 'inner' failed to start") != std::string::npos);
    CHECK(text.find("child 'bad' failed to start: database unavailable") != std::string::npos);
    CHECK(events->events() == std::vector<std::string>{"start:a", "start:x", "stop:x", "stop:a"});
  }
  CHECK(logs.has_line_with({"supervisor 'root' could not start"}));
}

TEST_CASE_FIXTURE(fixture, "supervision: shutdown waits for the graceful timeout then kills") {
  auto root = start({"root"}, {worker(events, "polite"),
                               stubborn_child(events, "stubborn", shutdown_policy::graceful(300ms)),
                               stubborn_child(events, "brute", shutdown_policy::brutal_kill())});
  auto began = std::chrono::steady_clock::now();
  CHECK(sv::stop_supervisor(sys, root, 5s));
  auto took = std::chrono::steady_clock::now() - began;
  CHECK(took >= 300ms);
  CHECK(took < 3s);
  CHECK(events->only("stop:") ==
        std::vector<std::string>{"stop:brute", "stop:stubborn", "stop:polite"});
  CHECK(events->last_reason("brute") == caf::exit_reason::kill);
  CHECK(events->last_reason("stubborn") == caf::exit_reason::kill);
  CHECK(events->last_reason("polite") == caf::exit_reason::user_shutdown);
  CHECK(logs.has_line_with({"child 'stubborn' did not stop within 300 ms, killing it"}));
}

TEST_CASE_FIXTURE(fixture, "supervision: lookup by name follows restarts") {
  auto coordinator = worker(events, "coordinator");  // longer than a CAF atom may be
  auto root = start({"root"}, {worker(events, "a"), coordinator});
  auto first = sv::lookup(sys, "coordinator");
  REQUIRE(first);
  CHECK(first.id() == events->ids("coordinator")[0]);
  CHECK_FALSE(sv::lookup(sys, "nobody"));

  caf::anon_send(first, fail_atom::value);
  REQUIRE(eventually([&] {
    auto now = sv::lookup(sys, "coordinator");
    return now && now != first;
  }));
  auto second = sv::lookup(sys, "coordinator");
  CHECK(second.id() == events->ids("coordinator")[1]);
  caf::scoped_actor self{sys};
  self->request(second, 2s, caf::get_atom::value)
      .receive([&](caf::actor_id id) { CHECK(id == second.id()); },
               [&](caf::error& err) { FAIL(sys.render(err)); });

  CHECK(sv::stop_supervisor(sys, root, 5s));
  CHECK_FALSE(sv::lookup(sys, "coordinator"));
  CHECK_FALSE(sv::lookup(sys, "a"));
}

TEST_CASE_FIXTURE(fixture, "supervision: a supervisor survives odd messages and normal exits") {
  auto root = start({"root"}, {worker(events, "a")});
  caf::scoped_actor self{sys};
  // Unknown message: dropped with a log line, and the sender gets an empty answer, not an error.
  bool answered = false;
  self->request(root, 2s, std::string{"hello"})
      .receive([&] { answered = true; }, [&](caf::error& err) { FAIL(sys.render(err)); });
  CHECK(answered);
  CHECK(logs.has_line_with({"supervisor 'root': dropped unexpected message"}));
  // A normal exit signal from outside does not stop it (as for any actor).
  self->send_exit(root, caf::exit_reason::normal);
  CHECK(snapshot(root).at("state") == "running");
  CHECK(events->incarnations("a") == 1);
  // An abnormal one does: an orderly shutdown with that reason.
  self->send_exit(root, caf::make_error(caf::sec::runtime_error, "parent died"));
  auto down = wait_down(sys, root);
  REQUIRE(down.down);
  CHECK(sys.render(down.reason).find("parent died") != std::string::npos);
  CHECK(events->only("stop:") == std::vector<std::string>{"stop:a"});
}

TEST_CASE_FIXTURE(fixture, "supervision: errors render readably") {
  auto err = sv::make_error(supervision_errc::restart_intensity_exceeded, "details");
  CHECK(sys.render(err) == "supervision_error(restart_intensity_exceeded: details)");
  CHECK(err == supervision_errc::restart_intensity_exceeded);
  CHECK(sv::injected_crash() == caf::sec::runtime_error);
}

TEST_CASE_FIXTURE(fixture, "supervision: a killed child is restarted and its supervisor survives") {
  // With a link, CAF 0.17 would pass the untrappable kill on to the supervisor.
  auto root = start({"root"}, {worker(events, "a"), worker(events, "b")});
  caf::anon_send_exit(sv::lookup(sys, "b"), caf::exit_reason::kill);
  REQUIRE(eventually([&] { return events->incarnations("b") == 2; }));
  auto snap = snapshot(root);
  CHECK(snap.at("state") == "running");
  CHECK(str(child_node(snap, "b").at("last_exit_reason")).find("kill") != std::string::npos);
  CHECK(events->incarnations("a") == 1);
  CHECK(sv::stop_supervisor(sys, root, 5s));
}

TEST_CASE_FIXTURE(fixture, "supervision: a killed supervisor leaves no children behind") {
  auto inner = sv::supervisor_spec({"inner"}, {worker(events, "x")});
  auto root = start({"root"}, {worker(events, "a"), inner,
                               stubborn_child(events, "stubborn", shutdown_policy::graceful(10s))});
  caf::anon_send_exit(root, caf::exit_reason::kill);
  REQUIRE(wait_down(sys, root).down);
  REQUIRE(eventually([&] { return events->only("stop:").size() == 3; }));
  CHECK(events->last_reason("a") == caf::exit_reason::kill);
  CHECK(events->last_reason("x") == caf::exit_reason::kill);  // through the inner supervisor
  CHECK(events->last_reason("stubborn") == caf::exit_reason::kill);
}
