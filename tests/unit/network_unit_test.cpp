// transport/network_unit: which actors a network thread runs itself, and which it hands to the
// scheduler threads.
#include "transport/network_unit.hpp"
#include "actor_test_support.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace beryl;
using testing::eventually;

namespace {

// Where each actor handled each of its messages.
struct thread_log {
  std::mutex mutex;
  std::map<std::string, std::vector<std::thread::id>> threads;

  void record(const std::string& actor) {
    std::lock_guard lock(mutex);
    threads[actor].push_back(std::this_thread::get_id());
  }
  std::vector<std::thread::id> of(const std::string& actor) {
    std::lock_guard lock(mutex);
    return threads[actor];
  }
};

// Records where it runs and passes each message on to `next`, if any.
caf::behavior relay(caf::event_based_actor* self, std::string name, thread_log* log,
                    caf::actor next) {
  return {[=](int n) {
    log->record(name);
    if (next) self->send(next, n);
  }};
}

// Whether `a` has started and waits for messages, so that the next one wakes it.
bool idle(const caf::actor& a) {
  auto* actor = dynamic_cast<caf::scheduled_actor*>(caf::actor_cast<caf::abstract_actor*>(a));
  return actor->mailbox().blocked();
}

// Runs `network_event` as a network thread does, in a turn of `unit`, on a thread of its own.
template <class F>
std::thread::id on_network_thread(network_unit& unit, F network_event) {
  std::thread::id id;
  std::thread thread([&] {
    id = std::this_thread::get_id();
    unit.bind_to_this_thread();
    network_unit::turn turn(network_unit::current());
    network_event();
  });
  thread.join();
  return id;
}

}  // namespace

TEST_CASE("a network thread runs the actor its message wakes and the actors that one wakes") {
  network_unit unit;  // outlives the actors, which keep a pointer to the unit that ran them
  testing::test_actor_system system;
  thread_log log;
  auto third = system.sys->spawn(relay, "third", &log, caf::actor{});
  auto second = system.sys->spawn(relay, "second", &log, third);
  auto first = system.sys->spawn(relay, "first", &log, second);
  REQUIRE(eventually([&] { return idle(first) && idle(second) && idle(third); }));

  auto network = on_network_thread(unit, [&] { unit.deliver(first, 1); });

  REQUIRE(eventually([&] { return log.of("third").size() == 1; }));
  CHECK(log.of("first") == std::vector{network});
  CHECK(log.of("second") == std::vector{network});
  CHECK(log.of("third").front() != network);  // two levels down: a scheduler thread
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(third, caf::exit_reason::user_shutdown);
}

TEST_CASE("an actor with more than a slice of messages goes on on a scheduler thread") {
  network_unit unit;
  testing::test_actor_system system;
  thread_log log;
  auto busy = system.sys->spawn(relay, "busy", &log, caf::actor{});
  REQUIRE(eventually([&] { return idle(busy); }));

  constexpr int messages = 100;
  auto network = on_network_thread(unit, [&] {
    for (int i = 0; i < messages; ++i) unit.deliver(busy, i);
  });

  REQUIRE(eventually([&] { return log.of("busy").size() == messages; }));
  auto threads = log.of("busy");
  auto here = std::count(threads.begin(), threads.end(), network);
  CHECK(here >= 1);
  CHECK(here < messages);  // the rest after the first slice, elsewhere
  caf::anon_send_exit(busy, caf::exit_reason::user_shutdown);
}

TEST_CASE("no thread but a network thread has a unit") {
  CHECK(network_unit::current() == nullptr);
}
