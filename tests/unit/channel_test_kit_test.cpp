// The README's example channel (app/examples/clock_channel.hpp) tested with the channel test kit
// (app/testing/channel_test.hpp), as an app's own tests would; then the kit's crash and presence
// assertions, and what it says when an expectation fails.
#include "app/examples/clock_channel.hpp"
#include "app/testing/channel_test.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

using namespace std::chrono_literals;
using beryl::testing::channel_test;
using beryl::testing::expectation_failed;
namespace json = boost::json;

namespace {

json::value json_of(const beryl::payload& p) {
  return std::get<json::value>(p);
}

// Tracks its member in presence under the "user" it joins with; "crash" throws.
class member_channel : public beryl::channel {
 public:
  using channel::channel;

 protected:
  beryl::reply join(const beryl::payload& params) override {
    const auto& user = beryl::as_object(params)->at("user").as_string();
    if (auto refused = track(std::string(user), {{"online", true}}))
      return beryl::reply::error({{"reason", *refused}});
    push_presence_state();
    return beryl::reply::ok();
  }

  std::optional<beryl::reply> handle_in(const std::string& event, const beryl::payload&) override {
    if (event == "crash") throw std::runtime_error("crash on request");
    return beryl::noreply;
  }
};

struct clock_test {
  channel_test t;
  clock_test() { t.routes().add<clock_channel>("clock:*"); }
};

}  // namespace

TEST_CASE("clock channel: a join answers with its zone; ping is answered, unknown events refused") {
  clock_test c;
  auto socket = c.t.connect();
  auto joined = socket.join("clock:utc");
  CHECK(joined.is_ok());
  CHECK(json_of(joined.response) == json::value{{"zone", "utc"}});
  auto ping = socket.push("clock:utc", "ping", json::object{{"n", 1}});
  CHECK(json_of(socket.expect_reply(ping)) == json::value{{"n", 1}});
  auto bogus = socket.push("clock:utc", "bogus");
  CHECK(json_of(socket.expect_reply(bogus, "error")) ==
        json::value{{"reason", "unknown event bogus"}});
}

TEST_CASE("clock channel: say is broadcast to the topic; a tomato reaches nobody") {
  clock_test c;
  auto ann = c.t.connect();
  auto bob = c.t.connect();
  REQUIRE(ann.join("clock:paris").is_ok());
  REQUIRE(bob.join("clock:paris").is_ok());
  ann.push("clock:paris", "say", json::object{{"text", "bonjour"}});
  CHECK(json_of(ann.expect_broadcast("clock:paris", "say")) == json::value{{"text", "bonjour"}});
  CHECK(json_of(bob.expect_push("clock:paris", "say")) == json::value{{"text", "bonjour"}});
  CHECK(json_of(ann.expect_push("clock:paris", "say")) == json::value{{"text", "bonjour"}});

  ann.push("clock:paris", "say", json::object{{"text", "a tomato"}});
  ann.expect_broadcast("clock:paris", "say");  // broadcast, then dropped by each handle_out
  bob.refute_push("clock:paris", "say");
  ann.refute_push("clock:paris", "say");
}

TEST_CASE("clock channel: ticks every second") {
  clock_test c;
  auto socket = c.t.connect();
  REQUIRE(socket.join("clock:utc").is_ok());
  auto tick = socket.expect_push("clock:utc", "tick", 3s);
  CHECK(json_of(tick).as_object().at("now_ms").is_int64());
}

TEST_CASE("channel test kit: crash, close and presence assertions") {
  channel_test t;
  t.routes().add<member_channel>("room:*");
  auto ann = t.connect();
  auto bob = t.connect();
  REQUIRE(ann.join("room:lobby", {{"user", "ann"}}).is_ok());
  CHECK(ann.expect_presence_state("room:lobby").contains("ann"));
  REQUIRE(bob.join("room:lobby", {{"user", "bob"}}).is_ok());
  auto state = bob.expect_presence_state("room:lobby");
  CHECK(state.contains("ann"));
  CHECK(state.contains("bob"));
  CHECK(ann.expect_presence_diff("room:lobby").at("joins").as_object().contains("bob"));

  bob.push("room:lobby", "crash");
  bob.expect_crash("room:lobby");
  CHECK(ann.expect_presence_diff("room:lobby").at("leaves").as_object().contains("bob"));

  auto leave = ann.leave("room:lobby");
  ann.expect_reply(leave);
  ann.expect_close("room:lobby");
}

TEST_CASE("channel test kit: a failed expectation says what arrived instead") {
  clock_test c;
  auto socket = c.t.connect();
  REQUIRE(socket.join("clock:utc").is_ok());
  auto ping = socket.push("clock:utc", "ping", json::object{{"n", 2}});
  CHECK_THROWS_WITH_AS(socket.expect_push("clock:utc", "pong", 100ms),
                       doctest::Contains("expected a push of pong on clock:utc within 100 ms"),
                       expectation_failed);
  CHECK_THROWS_WITH_AS(socket.expect_reply(ping, "error"),
                       doctest::Contains(R"(status ok: {"n":2})"), expectation_failed);
  auto unmatched = socket.join("nowhere:at-all");
  CHECK(unmatched.status == "error");
  CHECK(json_of(unmatched.response) == json::value{{"reason", "unmatched topic"}});
}
