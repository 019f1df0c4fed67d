#include "actors/coordinator.hpp"
#include "actors/atoms.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

#include <chrono>
#include <thread>

using namespace beryl;
using namespace std::chrono_literals;

namespace {

// Stands in for a socket actor: enrolls under `id` and reports a disconnect to `observer`.
caf::behavior fake_socket(caf::event_based_actor* self, caf::actor coordinator, std::string id,
                          caf::actor observer) {
  self->send(coordinator, atoms::enroll::value, id, caf::actor_cast<caf::actor>(self));
  return {
      [=](atoms::disconnect) {
        self->send(observer, atoms::disconnect::value, id);
        self->quit();
      },
  };
}

std::size_t disconnect(caf::scoped_actor& self, const caf::actor& coordinator,
                       const std::string& id) {
  std::size_t count = 99;
  self->request(coordinator, 5s, atoms::disconnect::value, id)
      .receive([&](std::size_t n) { count = n; }, [](caf::error&) {});
  return count;
}

}  // namespace

TEST_CASE("the coordinator disconnects every socket of an id, and only those") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto coordinator = spawn_coordinator(sys, std::make_shared<router>());
  caf::actor me{self};
  sys.spawn(fake_socket, coordinator, std::string("users_socket:1"), me);
  sys.spawn(fake_socket, coordinator, std::string("users_socket:1"), me);
  auto b = sys.spawn(fake_socket, coordinator, std::string("users_socket:2"), me);
  // The fake sockets enroll when they start, which may be after this line.
  std::string stats;
  for (int i = 0; i < 200 && stats.find("\"sockets_with_id\":3") == std::string::npos; ++i) {
    std::this_thread::sleep_for(5ms);
    self->request(coordinator, 5s, atoms::stats::value)
        .receive([&](const std::string& s) { stats = s; }, [](caf::error&) {});
  }
  CHECK(stats.find("\"sockets_with_id\":3") != std::string::npos);

  CHECK(disconnect(self, coordinator, "users_socket:1") == 2);
  std::vector<std::string> told;
  for (int i = 0; i < 2; ++i)
    self->receive([&](atoms::disconnect, const std::string& id) { told.push_back(id); },
                  caf::after(5s) >> [] {});
  CHECK(told == std::vector<std::string>{"users_socket:1", "users_socket:1"});

  // Sockets that ended are forgotten (the coordinator monitors them).
  bool forgotten = false;
  for (int i = 0; i < 100 && !forgotten; ++i) {
    forgotten = disconnect(self, coordinator, "users_socket:1") == 0;
    if (!forgotten) std::this_thread::sleep_for(10ms);
  }
  CHECK(forgotten);
  CHECK(disconnect(self, coordinator, "nobody") == 0);
  self->send_exit(b, caf::exit_reason::user_shutdown);
  self->send_exit(coordinator, caf::exit_reason::user_shutdown);
}
