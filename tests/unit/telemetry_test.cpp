// core/telemetry: attaching, detaching and executing handlers, as :telemetry does.
#include "core/telemetry.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace beryl;
using telemetry::event;

namespace {

// Detaches on the way out, so a failing check leaves no handler behind for the next test.
struct attached_for_test {
  std::string id;
  ~attached_for_test() { telemetry::detach(id); }
};

}  // namespace

TEST_CASE("telemetry: a handler gets the events it attached to, with measurements and metadata") {
  std::vector<std::string> seen;
  attached_for_test guard{"test.recorder"};
  REQUIRE(telemetry::attach(
      "test.recorder", {event::join, event::leave},
      [&](event e, const telemetry::measurements& m, const telemetry::metadata& meta) {
        seen.push_back(std::string(telemetry::name(e)) + " " + std::string(meta.topic) + " " +
                       std::string(meta.result) + " " + std::to_string(m.duration.count()));
      }));
  CHECK(telemetry::attached(event::join));
  CHECK(telemetry::attached(event::leave));
  CHECK_FALSE(telemetry::attached(event::crash));

  telemetry::metadata meta;
  meta.topic = "room:1";
  meta.result = "ok";
  telemetry::execute(event::join, {std::chrono::nanoseconds(42), 0}, meta);
  telemetry::execute(event::crash, {}, meta);  // not listened to
  meta.result = {};
  telemetry::execute(event::leave, {}, meta);
  CHECK(seen == std::vector<std::string>{"beryl.channel.join room:1 ok 42",
                                         "beryl.channel.leave room:1  0"});
}

TEST_CASE("telemetry: an id is attached once; detach stops the calls and frees the id") {
  int calls = 0;
  attached_for_test guard{"test.once"};
  auto count = [&](event, const telemetry::measurements&, const telemetry::metadata&) { ++calls; };
  REQUIRE(telemetry::attach("test.once", {event::crash}, count));
  CHECK_FALSE(telemetry::attach("test.once", {event::restart}, count));
  CHECK_FALSE(telemetry::attached(event::restart));
  telemetry::execute(event::crash, {}, {});
  CHECK(calls == 1);
  CHECK(telemetry::detach("test.once"));
  CHECK_FALSE(telemetry::detach("test.once"));
  CHECK_FALSE(telemetry::attached(event::crash));
  telemetry::execute(event::crash, {}, {});
  CHECK(calls == 1);
  CHECK(telemetry::attach("test.once", {event::crash}, count));
}

TEST_CASE("telemetry: several handlers of one event all run, in the order they were attached") {
  std::string order;
  attached_for_test a{"test.a"}, b{"test.b"};
  REQUIRE(telemetry::attach("test.a", {event::restart},
                            [&](event, const auto&, const auto&) { order += 'a'; }));
  REQUIRE(telemetry::attach("test.b", {event::restart, event::crash},
                            [&](event, const auto&, const auto&) { order += 'b'; }));
  telemetry::execute(event::restart, {}, {});
  telemetry::execute(event::crash, {}, {});
  CHECK(order == "abb");
  telemetry::detach("test.a");
  CHECK(telemetry::attached(event::restart));  // b still listens
}

TEST_CASE("telemetry: a handler that throws is detached and reported; the others go on") {
  std::vector<std::string> reports;
  telemetry::on_handler_failure([&](std::string_view id, std::string_view what) {
    reports.push_back(std::string(id) + ": " + std::string(what));
  });
  int good_calls = 0;
  attached_for_test bad{"test.bad"}, good{"test.good"};
  REQUIRE(telemetry::attach("test.bad", {event::rate_limited}, [](event, const auto&, const auto&) {
    throw std::runtime_error("handler bug");
  }));
  REQUIRE(telemetry::attach("test.good", {event::rate_limited},
                            [&](event, const auto&, const auto&) { ++good_calls; }));
  telemetry::execute(event::rate_limited, {}, {});
  telemetry::execute(event::rate_limited, {}, {});
  CHECK(good_calls == 2);
  CHECK(reports == std::vector<std::string>{"test.bad: handler bug"});
  CHECK_FALSE(telemetry::detach("test.bad"));  // already gone
  telemetry::on_handler_failure(nullptr);
}

TEST_CASE("telemetry: every event has its own name") {
  std::vector<std::string> names;
  for (auto e : telemetry::all_events()) names.emplace_back(telemetry::name(e));
  CHECK(names.size() == telemetry::event_count);
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(names[i].rfind("beryl.", 0) == 0);
    for (std::size_t j = i + 1; j < names.size(); ++j) CHECK(names[i] != names[j]);
  }
}
