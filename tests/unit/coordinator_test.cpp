// The coordinator as the registry of live sockets: every socket enrolls, and is forgotten when it
// says it ended; the registry answers the connection list (with its counts per address). That a
// real socket says so, however it ends, is tested end to end (tests/e2e/connections.test.mjs).
#include "actors/coordinator.hpp"
#include "actor_test_support.hpp"
#include "actors/atoms.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

#include <chrono>
#include <thread>

using namespace beryl;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Stands in for a socket actor: enrolls with `entry`, idles until it is stopped, and then tells the
// coordinator, as a socket's state does when CAF destroys it.
socket_actor::behavior_type fake_socket(socket_actor::pointer self, coordinator_actor coordinator,
                                        connection_entry entry) {
  self->send(coordinator, atoms::enroll::value, socket_actor{self}, entry);
  self->attach_functor([coordinator, socket = self->id()] {
    caf::anon_send(coordinator, atoms::forget::value, socket);
  });
  return {
      [=](const message&) {},
      [=](atoms::out, const std::string&, const payload&) {},
      [=](atoms::ended, const caf::actor_addr&, const caf::error&) {},
  };
}

connection_entry entry(std::optional<std::string> id, std::string peer) {
  auto info = std::make_shared<socket_info>();
  info->id = std::move(id);
  info->peer = std::move(peer);
  info->transport = "websocket";
  return {std::move(info), 1700000000000};
}

// The registry's list, every connection included.
json::object ask_list(caf::scoped_actor& self, const coordinator_actor& coordinator,
                      std::size_t limit = 1000) {
  json::object out;
  self->request(coordinator, 5s, atoms::list::value, limit)
      .receive([&](const json::value& v) { out = v.as_object(); }, [](caf::error&) {});
  return out;
}

// Open connections from `address` as the list counts them.
std::int64_t from_address(caf::scoped_actor& self, const coordinator_actor& coordinator,
                          const std::string& address) {
  auto by_address = ask_list(self, coordinator)["by_address"].as_object();
  auto* n = by_address.if_contains(address);
  return n ? n->to_number<std::int64_t>() : 0;
}

// Enrolment is asynchronous: waits until the registry holds `n` connections.
bool wait_for_connections(caf::scoped_actor& self, const coordinator_actor& coordinator,
                          std::int64_t n) {
  for (int i = 0; i < 400; ++i) {
    if (ask_list(self, coordinator)["total"].to_number<std::int64_t>() == n) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

}  // namespace

TEST_CASE("the coordinator registers every socket, with or without an id, until it ends") {
  testing::test_actor_system f;
  caf::scoped_actor self{*f.sys};
  auto coordinator = spawn_coordinator(*f.sys);
  auto a = f.sys->spawn(fake_socket, coordinator, entry("users_socket:1", "10.0.0.1:5000"));
  auto b = f.sys->spawn(fake_socket, coordinator, entry(std::nullopt, "10.0.0.1:5001"));
  auto c = f.sys->spawn(fake_socket, coordinator, entry(std::nullopt, "::1:6000"));
  REQUIRE(wait_for_connections(self, coordinator, 3));

  auto all = ask_list(self, coordinator);
  CHECK(all["by_address"].as_object().size() == 2);
  std::size_t with_id = 0;
  for (const auto& c : all["connections"].as_array()) with_id += !c.as_object().at("id").is_null();
  CHECK(with_id == 1);
  CHECK(from_address(self, coordinator, "10.0.0.1") == 2);
  CHECK(from_address(self, coordinator, "::1") == 1);
  CHECK(from_address(self, coordinator, "10.0.0.2") == 0);

  auto listed = ask_list(self, coordinator, 2);
  CHECK(listed["total"] == 3);
  CHECK(listed["connections"].as_array().size() == 2);  // the limit holds
  CHECK(listed["by_address"].as_object()["10.0.0.1"] == 2);
  auto full = ask_list(self, coordinator, 10);
  bool found = false;
  for (const auto& c : full["connections"].as_array())
    if (c.as_object().at("peer") == "10.0.0.1:5000") {
      found = true;
      CHECK(c.as_object().at("id") == "users_socket:1");
      CHECK(c.as_object().at("transport") == "websocket");
    }
  CHECK(found);

  // Ends are told: counts per address follow.
  self->send_exit(b, caf::exit_reason::user_shutdown);
  REQUIRE(wait_for_connections(self, coordinator, 2));
  CHECK(from_address(self, coordinator, "10.0.0.1") == 1);
  self->send_exit(c, caf::exit_reason::kill);
  REQUIRE(wait_for_connections(self, coordinator, 1));
  CHECK(ask_list(self, coordinator)["by_address"].as_object().size() == 1);

  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->send_exit(coordinator, caf::exit_reason::user_shutdown);
}
