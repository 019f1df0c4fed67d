// The dynamic supervisor: many temporary children, restarts of the others, failures.

#include <atomic>

#include "supervision_test_support.hpp"

using namespace sup_test;
using beryl::supervision::restart_type;
using beryl::supervision::supervision_errc;

namespace {

// A stand-in for a channel actor: (fail_atom) throws, (finish_atom) quits normally.
sv::child_spec channel_spec(std::shared_ptr<std::atomic<int>> exits) {
  return sv::worker_spec(
      "channel",
      [exits](caf::local_actor* parent) {
        return parent->spawn([exits](caf::event_based_actor* self) -> caf::behavior {
          self->set_exception_handler([](std::exception_ptr&) -> caf::error {
            return caf::make_error(caf::sec::runtime_error, "channel crashed");
          });
          self->attach_functor([exits] { ++*exits; });
          return {
              [](fail_atom) { throw std::runtime_error("channel crashed"); },
              [self](finish_atom) { self->quit(); },
          };
        });
      },
      restart_type::temporary);
}

std::int64_t field(const boost::json::object& node, const char* name) {
  return node.at(name).to_number<std::int64_t>();
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "supervision: dynamic supervisor with 10000 temporary children") {
  constexpr int total = 10'000;
  auto exits = std::make_shared<std::atomic<int>>(0);
  auto channels = start_dynamic({"channels", 3, std::chrono::seconds(5), 0, 5});
  std::vector<caf::actor> children;
  children.reserve(total);
  {
    caf::scoped_actor self{sys};
    auto spec = channel_spec(exits);
    for (int i = 0; i < total; ++i)
      self->request(channels, 5s, sv::start_child_atom::value, spec)
          .receive([&](caf::actor& child) { children.push_back(std::move(child)); },
                   [&](caf::error& err) { FAIL(sys.render(err)); });
  }
  REQUIRE(children.size() == total);
  auto snap = snapshot(channels);
  CHECK(snap.at("kind") == "dynamic_supervisor");
  CHECK(field(snap, "active") == total);
  CHECK(field(snap, "started") == total);
  CHECK(snap.at("children").as_array().size() == 5);  // listed: snapshot_limit
  CHECK(field(snap, "children_listed") == 5);

  // 1,000 crash, 500 end normally: counted, none restarted.
  for (int i = 0; i < 1000; ++i) caf::anon_send(children[i], fail_atom::value);
  for (int i = 1000; i < 1500; ++i) caf::anon_send(children[i], finish_atom::value);
  REQUIRE(eventually([&] { return field(snapshot(channels), "active") == total - 1500; }, 10s));
  snap = snapshot(channels);
  CHECK(field(snap, "crashed") == 1000);
  CHECK(field(snap, "exited") == 500);
  CHECK(field(snap, "child_restarts") == 0);
  CHECK(field(snap, "started") == total);
  CHECK(snap.at("recent_crashes").as_array().size() == 10);
  CHECK(*exits == 1500);
  CHECK(logs.has_line_with(
      {"dynamic supervisor 'channels'", "terminated abnormally", "channel crashed"}));

  children.clear();
  CHECK(sv::stop_supervisor(sys, channels, 10s));
  CHECK(*exits == total);
}

TEST_CASE_FIXTURE(fixture,
                  "supervision: dynamic supervisor restarts transient and permanent children") {
  auto dyn = start_dynamic({"rooms", 2, std::chrono::seconds(10)});
  auto room = worker(events, "room:lobby", restart_type::transient);
  auto clock = worker(events, "clock", restart_type::permanent);
  auto first_room = sv::start_child(sys, dyn, room);
  REQUIRE(first_room);
  REQUIRE(sv::start_child(sys, dyn, clock));

  caf::anon_send(*first_room, fail_atom::value);  // transient + crash: restarted
  REQUIRE(eventually([&] { return events->incarnations("room:lobby") == 2; }));
  CHECK(sv::lookup(sys, "room:lobby").id() == events->ids("room:lobby")[1]);
  caf::anon_send(sv::lookup(sys, "clock"), finish_atom::value);  // permanent + normal: restarted
  REQUIRE(eventually([&] { return events->incarnations("clock") == 2; }));
  auto snap = snapshot(dyn);
  CHECK(field(snap, "active") == 2);
  CHECK(field(snap, "child_restarts") == 2);
  CHECK(field(snap, "crashed") == 1);
  CHECK(field(snap, "exited") == 1);
  CHECK(logs.has_line_with(
      {"dynamic supervisor 'rooms'", "restarted child 'room:lobby'", "restart #1"}));

  // The third restart within 10 s: the dynamic supervisor gives up and takes its children along.
  caf::scoped_actor self{sys};
  self->request(dyn, 2s, sv::crash_atom::value, sv::lookup(sys, "room:lobby"))
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { FAIL(sys.render(err)); });
  auto down = wait_down(sys, dyn);
  REQUIRE(down.down);
  CHECK(down.reason == supervision_errc::restart_intensity_exceeded);
  CHECK(events->incarnations("room:lobby") == 2);
  // room:lobby crashed twice, clock ended once and was stopped once.
  CHECK(eventually([&] { return events->only("stop:").size() == 4; }));
  CHECK(events->last_reason("clock") == caf::exit_reason::user_shutdown);
  CHECK_FALSE(sv::lookup(sys, "clock"));
}

TEST_CASE_FIXTURE(fixture, "supervision: dynamic supervisor start failures and limits") {
  auto dyn = start_dynamic({"limited", 3, std::chrono::seconds(5), 2});
  auto broken = sv::worker_spec(
      "broken", [](caf::local_actor*) -> caf::actor { throw std::runtime_error("no such topic"); },
      restart_type::temporary);
  auto failed = sv::start_child(sys, dyn, broken);
  REQUIRE_FALSE(failed);
  CHECK(failed.error() == supervision_errc::start_failed);
  CHECK(sys.render(failed.error()).find("child 'broken' failed to start: no such topic") !=
        std::string::npos);

  REQUIRE(sv::start_child(sys, dyn, worker(events, "one", restart_type::temporary)));
  REQUIRE(sv::start_child(sys, dyn, worker(events, "two", restart_type::temporary)));
  auto third = sv::start_child(sys, dyn, worker(events, "three", restart_type::temporary));
  REQUIRE_FALSE(third);
  CHECK(third.error() == supervision_errc::max_children_reached);
  CHECK(events->incarnations("three") == 0);

  // Crash injection needs one of its own children.
  caf::scoped_actor self{sys};
  self->request(dyn, 2s, sv::crash_atom::value, sv::lookup(sys, "one"))
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { FAIL(sys.render(err)); });
  REQUIRE(eventually([&] { return field(snapshot(dyn), "crashed") == 1; }));
  self->request(dyn, 2s, sv::crash_atom::value, caf::actor_cast<caf::actor>(self))
      .receive([](caf::ok_atom) { FAIL("crashed a stranger"); },
               [&](caf::error& err) { CHECK(err == supervision_errc::no_such_child); });
  // Still serving, with room for one more.
  CHECK(sv::start_child(sys, dyn, worker(events, "three", restart_type::temporary)));
  CHECK(sv::stop_supervisor(sys, dyn, 5s));
}

TEST_CASE_FIXTURE(fixture, "supervision: dynamic supervisor stops all children at once") {
  auto dyn = start_dynamic({"rooms"});
  for (auto name : {"r1", "r2", "r3"})
    REQUIRE(sv::start_child(sys, dyn, worker(events, name, restart_type::temporary)));
  for (auto name : {"s1", "s2"})
    REQUIRE(sv::start_child(sys, dyn,
                            stubborn_child(events, name, sv::shutdown_policy::graceful(400ms))));
  auto began = std::chrono::steady_clock::now();
  CHECK(sv::stop_supervisor(sys, dyn, 5s));
  auto took = std::chrono::steady_clock::now() - began;
  // Both stubborn children waited out their 400 ms together, not one after the other (800 ms).
  CHECK(took >= 400ms);
  CHECK(took < 750ms);
  CHECK(events->only("stop:").size() == 5);
  CHECK(events->last_reason("r1") == caf::exit_reason::user_shutdown);
  CHECK(events->last_reason("s1") == caf::exit_reason::kill);
  CHECK(events->last_reason("s2") == caf::exit_reason::kill);
  CHECK(logs.has_line_with({"dynamic supervisor 'rooms'", "killed 2 children", "400 ms"}));
}

TEST_CASE_FIXTURE(fixture, "supervision: a dynamic supervisor adopts children spawned elsewhere") {
  auto exits = std::make_shared<std::atomic<int>>(0);
  auto channels = start_dynamic({"adopting", 3, std::chrono::seconds(5), 2, 5});
  auto spawn_channel = [&] {
    // channel_spec's start function, run by the caller instead of the supervisor.
    caf::scoped_actor self{sys};
    return channel_spec(exits).start(self.ptr());
  };
  auto crasher = spawn_channel();
  auto finisher = spawn_channel();
  caf::anon_send(channels, sv::adopt_atom::value, std::string("room:a"), crasher);
  caf::anon_send(channels, sv::adopt_atom::value, std::string("room:b"), finisher);
  REQUIRE(eventually([&] { return field(snapshot(channels), "active") == 2; }));
  CHECK(field(snapshot(channels), "started") == 2);

  // Full (max_children 2): a third is killed rather than left unsupervised.
  auto extra = spawn_channel();
  caf::anon_send(channels, sv::adopt_atom::value, std::string("room:c"), extra);
  CHECK(wait_down(sys, extra).down);
  CHECK(logs.has_line_with({"dynamic supervisor 'adopting'", "cannot adopt 'room:c'"}));

  // Adopted children are supervised like started ones: counted, never restarted.
  caf::anon_send(crasher, fail_atom::value);
  caf::anon_send(finisher, finish_atom::value);
  REQUIRE(eventually([&] { return field(snapshot(channels), "active") == 0; }));
  auto snap = snapshot(channels);
  CHECK(field(snap, "crashed") == 1);
  CHECK(field(snap, "exited") == 1);
  CHECK(field(snap, "child_restarts") == 0);
  CHECK(sv::stop_supervisor(sys, channels, 10s));
}
