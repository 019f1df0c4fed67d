// The telemetry events the server emits (core/telemetry.hpp), from real socket actors, channels
// and supervisors: what an embedder attaching a handler gets, with its metadata.
#include "socket_harness.hpp"
#include "supervision_test_support.hpp"

#include "actors/channel.hpp"
#include "core/telemetry.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace beryl;
using namespace beryl::testing;

namespace {

// Records every event as one line; attached for the test's lifetime.
struct recorder {
  std::shared_ptr<journal> lines = std::make_shared<journal>();
  std::shared_ptr<std::atomic<bool>> durations_positive = std::make_shared<std::atomic<bool>>(true);

  explicit recorder(std::vector<telemetry::event> events) {
    REQUIRE(telemetry::attach(
        "test.recorder", std::move(events),
        [lines = lines, positive = durations_positive](
            telemetry::event e, const telemetry::measurements& m, const telemetry::metadata& meta) {
          std::string line(telemetry::name(e));
          for (auto field : {meta.transport, meta.remote_address, meta.supervisor, meta.child,
                             meta.topic, meta.event, meta.result, meta.reason, meta.action})
            if (!field.empty()) line += " " + std::string(field);
          if ((e == telemetry::event::join || e == telemetry::event::handle_in_stop) &&
              m.duration.count() <= 0)
            *positive = false;
          lines->add(std::move(line));
        }));
  }
  ~recorder() { telemetry::detach("test.recorder"); }
  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;
};

class echo_channel : public channel {
 public:
  using channel::channel;

 protected:
  reply join(const payload& params) override {
    if (as_object(params)->contains("refuse")) return reply::error({{"reason", "no"}});
    return reply::ok();
  }
  std::optional<reply> handle_in(const std::string& event, const payload& body) override {
    if (event == "crash") throw std::runtime_error("on purpose");
    return reply::ok(body);
  }
};

}  // namespace

TEST_CASE("telemetry events: join, handle_in start and stop, leave, with the connection's data") {
  socket_harness h;
  h.routes().add<echo_channel>("room:*");
  recorder r({telemetry::event::join, telemetry::event::handle_in_start,
              telemetry::event::handle_in_stop, telemetry::event::leave});
  auto c = h.connect();
  c.send("1", "1", "room:a", "phx_join");
  c.send("1", "2", "room:a", "ping");
  c.send("3", "3", "room:b", "phx_join", R"({"refuse":true})");
  c.send("4", "4", "nope:1", "phx_join");
  c.send("1", "5", "room:a", "phx_leave");
  c.round_trip("6");
  REQUIRE(r.lines->wait_until([](const auto& xs) { return xs.size() >= 6; }));
  const std::string conn = "websocket 127.0.0.1:40000";
  // Sorted: the channels run apart, so room:b's join may come before room:a's handle_in.
  CHECK(lines(sorted(r.lines->entries())) ==
        lines(sorted({"beryl.channel.join " + conn + " room:a ok",
                      "beryl.channel.handle_in.start " + conn + " room:a ping",
                      "beryl.channel.handle_in.stop " + conn + " room:a ping",
                      "beryl.channel.join " + conn + " room:b error refused",
                      "beryl.channel.join " + conn + " nope:1 error unmatched topic",
                      "beryl.channel.leave " + conn + " room:a left"})));
  CHECK(*r.durations_positive);
}

TEST_CASE("telemetry events: a handle_in that throws still ends its span; the crash is a leave") {
  socket_harness h;
  h.routes().add<echo_channel>("room:*");
  recorder r({telemetry::event::handle_in_stop, telemetry::event::leave});
  auto c = h.connect();
  c.send("1", "1", "room:a", "phx_join");
  c.send("1", "2", "room:a", "crash");
  REQUIRE(r.lines->wait_until([](const auto& xs) { return xs.size() >= 2; }));
  CHECK(lines(r.lines->entries()) ==
        lines({"beryl.channel.handle_in.stop websocket 127.0.0.1:40000 room:a crash",
               "beryl.channel.leave websocket 127.0.0.1:40000 room:a crashed"}));
}

TEST_CASE("telemetry events: a message over the rate limit is told, with its topic and event") {
  socket_harness h;
  h.routes().add<echo_channel>("room:*");
  h.settings().message_rate = rate_limit{0.01, 2};
  recorder r({telemetry::event::rate_limited});
  auto c = h.connect();
  c.send("1", "1", "room:a", "phx_join");
  c.send("1", "2", "room:a", "ping");
  c.send("1", "3", "room:a", "ping");  // the third message: over the burst of 2
  REQUIRE(r.lines->wait_until([](const auto& xs) { return !xs.empty(); }));
  CHECK(lines(r.lines->entries()) ==
        lines({"beryl.socket.rate_limited websocket 127.0.0.1:40000 room:a ping"}));
}

TEST_CASE_FIXTURE(sup_test::fixture,
                  "telemetry events: a crash and the restart its supervisor makes") {
  using sup_test::fail_atom;
  using sup_test::finish_atom;
  using sup_test::worker;
  namespace sv = beryl::supervision;
  recorder r({telemetry::event::crash, telemetry::event::restart});
  start({"root", sv::restart_strategy::one_for_one, 10},
        {worker(events, "perm"), worker(events, "temp", sv::restart_type::temporary)});
  caf::anon_send(sv::lookup(sys, "perm"), fail_atom::value);
  REQUIRE(r.lines->wait_until([](const auto& xs) { return xs.size() >= 2; }));
  caf::anon_send(sv::lookup(sys, "temp"), fail_atom::value);
  REQUIRE(r.lines->wait_until([](const auto& xs) { return xs.size() >= 3; }));
  auto seen = r.lines->entries();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].rfind("beryl.supervisor.crash root perm ", 0) == 0);
  CHECK(seen[0].substr(seen[0].size() - 8) == " restart");
  CHECK(seen[1].rfind("beryl.supervisor.restart root perm ", 0) == 0);
  CHECK(seen[1].substr(seen[1].size() - 10) == " restarted");
  CHECK(seen[2].rfind("beryl.supervisor.crash root temp ", 0) == 0);
  CHECK(seen[2].substr(seen[2].size() - 5) == " none");
  // A normal exit is no crash.
  caf::anon_send(sv::lookup(sys, "perm"), finish_atom::value);
  REQUIRE(sup_test::eventually([&] { return events->incarnations("perm") == 3; }));
  CHECK(r.lines->size() == 4);  // only the restart
  CHECK(r.lines->entries().back().rfind("beryl.supervisor.restart root perm ", 0) == 0);
}
