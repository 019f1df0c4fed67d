// The Phoenix state machine of a socket actor (docs/protocol.md §4), in process: real socket
// actors, channels, pubsub and V2 serializer, client frames handed over as a transport does, and
// the exact frames the client would receive, in order. tests/e2e/channels.test.mjs,
// rate-limits.test.mjs and limits.test.mjs check the same rules over the network.
#include "socket_harness.hpp"

#include "actors/channel.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <thread>

#ifndef BERYL_TEST_TIME_SCALE
#define BERYL_TEST_TIME_SCALE 1  // sanitizer builds set it (tests/CMakeLists.txt)
#endif

using namespace beryl;
using namespace beryl::testing;
namespace json = boost::json;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;

const std::string unmatched = R"({"reason":"unmatched topic"})";

// A channel driven by its join payload and events, which logs what the framework made it do as
// "<callback> <topic> <user> [detail]". Join payload: {"user": name} and any of "refuse",
// "throw", "push" (a push during join), "sleep_ms" (a slow join), and two messages the channel
// sends itself during join, so that they come before the pubsub's answer to its subscribe:
// "crash_after_join" (throws) and "hello_after_join" (broadcasts "hello" to the topic).
class scripted_channel : public channel {
 public:
  scripted_channel(caf::actor_config& cfg, channel_context ctx, std::shared_ptr<journal> log,
                   bool intercepting)
      : channel(cfg, std::move(ctx)), log_(std::move(log)) {
    if (intercepting) intercept({"shout"});
  }

 protected:
  reply join(const payload& params) override {
    const auto& p = *as_object(params);
    if (auto* user = p.if_contains("user")) user_ = json::value_to<std::string>(*user);
    note("join");
    if (auto* ms = p.if_contains("sleep_ms"))
      std::this_thread::sleep_for(std::chrono::milliseconds(ms->to_number<int>()));
    if (p.contains("throw")) throw std::runtime_error("join throws on purpose");
    if (p.contains("refuse")) return reply::error({{"reason", "refused"}});
    if (p.contains("push")) push("welcome", json::value(json::object{{"user", user_}}));
    if (p.contains("crash_after_join"))
      caf::anon_send(caf::actor_cast<caf::actor>(this), crash_atom::value);
    if (p.contains("hello_after_join"))
      caf::anon_send(caf::actor_cast<caf::actor>(this), hello_atom::value);
    return reply::ok({{"joined", topic()}});
  }

  std::optional<reply> handle_in(const std::string& event, const payload& body) override {
    note("in", event);
    if (event == "ping") return reply::ok(body);
    if (event == "crash") throw std::runtime_error("handle_in throws on purpose");
    if (event == "kill") send_exit(caf::actor_cast<caf::actor>(this), caf::exit_reason::kill);
    if (event == "stop") stop();
    if (event == "shout") broadcast("shout", body);
    if (event == "later") later_ = socket_ref();  // answered by the next "answer"
    if (event == "answer" && later_) {
      reply_later(*later_, reply::ok(body));
      return reply::ok({{"answered", true}});
    }
    return noreply;
  }

  // Rewrites an intercepted shout for this subscriber, or drops it when it is addressed ("to")
  // to someone else.
  void handle_out(const std::string& event, const payload& body) override {
    note("out", event);
    const auto& b = *as_object(body);
    if (auto* to = b.if_contains("to"); to && json::value_to<std::string>(*to) != user_) return;
    push(event, json::value(json::object{{"text", b.at("text")}, {"for", user_}}));
  }

  caf::behavior handle_info() override {
    return {
        [](crash_atom) { throw std::runtime_error("crash right after join"); },
        [this](hello_atom) {
          broadcast("hello", json::value(json::object{{"user", user_}}));
        },
    };
  }

  void terminate(const stop_reason& reason) override { note("terminate", reason.name()); }

 private:
  void note(const char* what, const std::string& detail = {}) {
    log_->add(std::string(what) + " " + topic() + " " + user_ + (detail.empty() ? "" : " ") +
              detail);
  }

  std::shared_ptr<journal> log_;
  std::string user_ = "-";
  std::optional<reply_ref> later_;
};

using get_atom = caf::atom_constant<caf::atom("get")>;

// A channel whose join asks another actor for the value it joins with (reply::later()). Join
// payload: {} (then it pushes, completes the join and broadcasts, in that order), "refuse" (it
// completes with an error) or "never" (it never completes).
class deferred_channel : public channel {
 public:
  deferred_channel(caf::actor_config& cfg, channel_context ctx, caf::actor keeper)
      : channel(cfg, std::move(ctx)), keeper_(std::move(keeper)) {}

 protected:
  reply join(const payload& params) override {
    const auto& p = *as_object(params);
    if (p.contains("never")) return reply::later();
    const bool refuse = p.contains("refuse");
    request(keeper_, caf::infinite, get_atom::value).then([this, refuse](int value) {
      if (refuse) return complete_join(reply::error({{"reason", "no"}}));
      push("pushed", {{"value", value}});
      complete_join(reply::ok({{"value", value}}));
      broadcast("value", {{"value", value}});
    });
    return reply::later();
  }

 private:
  caf::actor keeper_;
};

// A harness whose routes are room:* (plain channels) and icpt:* (channels intercepting "shout"),
// both logging to `log`, and later:* (deferred joins asking `keeper`, which answers 7).
struct fixture {
  socket_harness h;
  std::shared_ptr<journal> log = std::make_shared<journal>();
  caf::actor keeper =
      h.system().spawn([]() -> caf::behavior { return {[](get_atom) { return 7; }}; });

  fixture() {
    h.routes().add<scripted_channel>("room:*", log, false);
    h.routes().add<scripted_channel>("icpt:*", log, true);
    h.routes().add<deferred_channel>("later:*", keeper);
  }

  ~fixture() { caf::anon_send_exit(keeper, caf::exit_reason::user_shutdown); }
};

std::string joined(std::string_view topic) {
  return R"({"joined":")" + std::string(topic) + R"("})";
}

// Joins `topic` as `user` with join_ref = ref = `ref`: the ok reply is the connection's next frame.
void join_ok(const test_client& c, const char* ref, const std::string& topic,
             const std::string& user) {
  c.send(ref, ref, topic, "phx_join", R"({"user":")" + user + R"("})");
  REQUIRE(c.next() == ok_reply(ref, ref, topic, joined(topic)));
}

}  // namespace

TEST_CASE("state machine: a heartbeat on phoenix gets an ok reply with its ref and join_ref null") {
  fixture f;
  auto c = f.h.connect();
  c.send(nullptr, "5", "phoenix", "heartbeat");
  c.send("9", "6", "phoenix", "heartbeat");  // a join_ref is not echoed
  CHECK(c.next() == ok_reply(nullptr, "5", "phoenix"));
  CHECK(c.next() == ok_reply(nullptr, "6", "phoenix"));
  CHECK(lines(c.out->rest()) == "");
  CHECK(f.log->size() == 0);
}

TEST_CASE("state machine: a join is answered ok with its join_ref; events get replies with J") {
  fixture f;
  auto c = f.h.connect();
  c.send("1", "1", "room:a", "phx_join", R"({"user":"ann"})");
  c.send(nullptr, "2", "room:a", "ping", R"({"n":1})");  // a null join_ref is no stale one
  c.send("1", "3", "room:a", "ping", R"({"n":2})");
  c.send("1", "4", "room:a", "quiet");  // noreply: nothing on the wire
  CHECK(c.next() == ok_reply("1", "1", "room:a", joined("room:a")));
  CHECK(c.next() == ok_reply("1", "2", "room:a", R"({"n":1})"));
  CHECK(c.next() == ok_reply("1", "3", "room:a", R"({"n":2})"));
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) == lines({"join room:a ann", "in room:a ann ping",
                                          "in room:a ann ping", "in room:a ann quiet"}));
}

TEST_CASE("state machine: socket_ref() kept past handle_in answers its message with reply_later") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  c.send("1", "2", "room:a", "later");
  c.send("1", "3", "room:a", "answer", R"({"n":1})");
  // The reply to ref 2 carries the body of the message that answered it, and comes first.
  CHECK(c.next() == ok_reply("1", "2", "room:a", R"({"n":1})"));
  CHECK(c.next() == ok_reply("1", "3", "room:a", R"({"answered":true})"));
  CHECK(lines(c.out->rest()) == "");
}

TEST_CASE("state machine: a refused join gets its error reply with J and leaves no channel") {
  fixture f;
  auto c = f.h.connect();
  c.send("3", "3", "room:no", "phx_join", R"({"user":"ann","refuse":true})");
  c.send("3", "4", "room:no", "ping");
  CHECK(c.next() == error_reply("3", "3", "room:no", R"({"reason":"refused"})"));
  CHECK(c.next() == error_reply(nullptr, "4", "room:no", unmatched));
  CHECK(lines(c.out->rest()) == "");
  // Neither handle_in nor terminate: the channel never joined.
  CHECK(lines(f.log->entries()) == lines({"join room:no ann"}));
}

TEST_CASE("state machine: unmatched topics get error unmatched topic with join_ref null") {
  fixture f;
  auto c = f.h.connect();
  c.send("1", "1", "nope:1", "phx_join");      // no route
  c.send(nullptr, "2", "room:never", "ping");  // routed, but never joined
  c.send("9", "3", "room:never", "shout");
  CHECK(c.next() == error_reply(nullptr, "1", "nope:1", unmatched));
  CHECK(c.next() == error_reply(nullptr, "2", "room:never", unmatched));
  CHECK(c.next() == error_reply(nullptr, "3", "room:never", unmatched));
  CHECK(lines(c.out->rest()) == "");
  CHECK(f.log->size() == 0);
}

TEST_CASE("state machine: a duplicate join replies to the new join, then closes the old join_ref") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  c.send("2", "2", "room:a", "phx_join", R"({"user":"bob"})");
  c.send("2", "3", "room:a", "ping");  // reaches the new channel
  CHECK(c.next() == ok_reply("2", "2", "room:a", joined("room:a")));
  CHECK(c.next() == v2("1", "1", "room:a", "phx_close"));
  CHECK(c.next() == ok_reply("2", "3", "room:a"));
  CHECK(lines(c.out->rest()) == "");
  // The old channel terminated before the new one joined: the socket waits for it.
  CHECK(lines(f.log->entries()) == lines({"join room:a ann", "terminate room:a ann duplicate_join",
                                          "join room:a bob", "in room:a bob ping"}));
}

TEST_CASE("state machine: messages with a stale join_ref are dropped without a reply") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  c.send("2", "2", "room:a", "phx_join", R"({"user":"bob"})");
  CHECK(c.next() == ok_reply("2", "2", "room:a", joined("room:a")));
  CHECK(c.next() == v2("1", "1", "room:a", "phx_close"));
  c.send("1", "3", "room:a", "ping", R"({"stale":true})");
  c.send("1", "4", "room:a", "shout", R"({"stale":true})");
  c.send("1", "5", "room:a", "phx_leave");  // a latent leave must not end the newer join
  c.send("7", "6", "room:a", "ping", R"({"never":"joined"})");
  c.send("2", "7", "room:a", "ping", R"({"current":true})");
  // Inbound messages are handled in order: the first answer is to ref 7.
  CHECK(c.next() == ok_reply("2", "7", "room:a", R"({"current":true})"));
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) == lines({"join room:a ann", "terminate room:a ann duplicate_join",
                                          "join room:a bob", "in room:a bob ping"}));
}

TEST_CASE(
    "state machine: a leave gets its ok reply, then phx_close, and the channel ends as left") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "4", "room:a", "ann");
  c.send("4", "5", "room:a", "phx_leave");
  CHECK(c.next() == ok_reply("4", "5", "room:a"));
  CHECK(c.next() == v2("4", "4", "room:a", "phx_close"));
  c.send("4", "6", "room:a", "ping");
  // Leaves of topics without a channel are answered ok, echoing their own refs.
  c.send(nullptr, "7", "room:not-joined", "phx_leave");
  c.send("77", "8", "room:not-joined", "phx_leave");
  CHECK(c.next() == error_reply(nullptr, "6", "room:a", unmatched));
  CHECK(c.next() == ok_reply(nullptr, "7", "room:not-joined"));
  CHECK(c.next() == ok_reply("77", "8", "room:not-joined"));
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) == lines({"join room:a ann", "terminate room:a ann left"}));
}

TEST_CASE("state machine: a leave sent during a slow join is answered after the join's reply") {
  fixture f;
  auto c = f.h.connect();
  // The join takes a while and pushes; the leave is already queued behind it.
  c.send("1", "1", "room:slow", "phx_join", R"({"user":"ann","sleep_ms":40,"push":true})");
  c.send("1", "2", "room:slow", "phx_leave");
  CHECK(c.next() == ok_reply("1", "1", "room:slow", joined("room:slow")));
  CHECK(c.next() == v2("1", nullptr, "room:slow", "welcome", R"({"user":"ann"})"));
  CHECK(c.next() == ok_reply("1", "2", "room:slow"));
  CHECK(c.next() == v2("1", "1", "room:slow", "phx_close"));  // no phx_error
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) == lines({"join room:slow ann", "terminate room:slow ann left"}));
}

TEST_CASE("state machine: a leave and a rejoin back to back: the new join survives") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  c.send("1", "2", "room:a", "phx_leave");
  c.send("3", "3", "room:a", "phx_join", R"({"user":"bob"})");
  c.send("3", "4", "room:a", "ping");
  // The old channel handles the leave before it is stopped, so its reply comes first. Its
  // phx_close comes too when it ended before the socket took the join (a race), but never after
  // the new join's reply, where it would close the new join at the client.
  CHECK(c.next() == ok_reply("1", "2", "room:a"));
  auto after_leave = c.next();
  if (after_leave == v2("1", "1", "room:a", "phx_close")) after_leave = c.next();
  CHECK(after_leave == ok_reply("3", "3", "room:a", joined("room:a")));
  CHECK(c.next() == ok_reply("3", "4", "room:a"));
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) == lines({"join room:a ann", "terminate room:a ann left",
                                          "join room:a bob", "in room:a bob ping"}));
}

TEST_CASE("state machine: a handle_in that throws gives phx_error; the other channels stay") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  join_ok(c, "2", "room:b", "ann");
  c.send("1", "3", "room:a", "crash");
  CHECK(c.next() == v2("1", "1", "room:a", "phx_error", R"({"reason":"channel_crash"})"));
  c.send("1", "4", "room:a", "ping");
  CHECK(c.next() == error_reply(nullptr, "4", "room:a", unmatched));
  c.send("2", "5", "room:b", "ping");
  CHECK(c.next() == ok_reply("2", "5", "room:b"));
  join_ok(c, "6", "room:a", "ann");  // phoenix.js rejoins
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) ==
        lines({"join room:a ann", "join room:b ann", "in room:a ann crash",
               "terminate room:a ann crashed", "in room:b ann ping", "join room:a ann"}));
  CHECK_FALSE(c.end->reason());
}

TEST_CASE("state machine: a channel killed outright gives phx_error; the socket carries on") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  // A kill skips the channel's exit handler and terminate(): only CAF's on_exit still runs.
  c.send("1", "2", "room:a", "kill");
  CHECK(c.next() == v2("1", "1", "room:a", "phx_error", R"({"reason":"channel_crash"})"));
  c.send("1", "3", "room:a", "ping");
  CHECK(c.next() == error_reply(nullptr, "3", "room:a", unmatched));
  join_ok(c, "4", "room:a", "ann");
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) ==
        lines({"join room:a ann", "in room:a ann kill", "join room:a ann"}));
  CHECK_FALSE(c.end->reason());
}

TEST_CASE("state machine: a channel that calls stop() ends with phx_close") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  c.send("1", "2", "room:a", "stop");
  CHECK(c.next() == v2("1", "1", "room:a", "phx_close"));
  c.send("1", "3", "room:a", "ping");
  CHECK(c.next() == error_reply(nullptr, "3", "room:a", unmatched));
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) ==
        lines({"join room:a ann", "in room:a ann stop", "terminate room:a ann stopped"}));
}

TEST_CASE(
    "state machine: the join reply is the topic's first frame, before pushes and broadcasts") {
  fixture f;
  auto c = f.h.connect();
  // Broadcasts to the topic from another thread, all through the join.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread broadcaster([&] {
    for (int n = 0; !stop; ++n) {
      f.h.pubsub().broadcast("room:race", "tick", json::value(json::object{{"n", n}}));
      sent = n + 1;
      std::this_thread::sleep_for(200us);
    }
  });
  while (sent < 5) std::this_thread::yield();
  // The channel's own broadcast is made once it is subscribed but before it knows: the reply
  // must be on the wire by then.
  c.send("1", "1", "room:race", "phx_join",
         R"({"user":"ann","sleep_ms":20,"push":true,"hello_after_join":true})");
  bool ticked = c.out->wait_for_match(
      [](const std::string& frame) { return frame.find(R"("tick")") != std::string::npos; });
  stop = true;
  broadcaster.join();
  REQUIRE(ticked);
  CHECK(c.next() == ok_reply("1", "1", "room:race", joined("room:race")));
  // The push and the hello follow; ticks may come before them, in the order they were sent.
  auto welcome = v2("1", nullptr, "room:race", "welcome", R"({"user":"ann"})");
  auto hello = v2(nullptr, nullptr, "room:race", "hello", R"({"user":"ann"})");
  int pushes = 0, hellos = 0, last = -1;
  for (const auto& frame : c.out->rest()) {
    if (frame == welcome || frame == hello) {
      ++(frame == welcome ? pushes : hellos);
      continue;
    }
    auto v = json::parse(frame).as_array();
    REQUIRE(v.size() == 5);
    CHECK(v[0].is_null());
    CHECK(v[3] == "tick");
    auto n = v[4].as_object().at("n").to_number<int>();
    CHECK(n > last);
    last = n;
  }
  CHECK(pushes == 1);
  CHECK(hellos == 1);
}

TEST_CASE("state machine: intercepted events go through handle_out per subscriber, others do not") {
  fixture f;
  auto ann = f.h.connect();
  auto bob = f.h.connect();
  join_ok(ann, "1", "icpt:room", "ann");
  join_ok(bob, "5", "icpt:room", "bob");
  auto news = v2(nullptr, nullptr, "icpt:room", "news", R"({"x":1})");
  auto shout = [](const char* join_ref, const char* body) {
    return v2(join_ref, nullptr, "icpt:room", "shout", body);
  };
  f.h.pubsub().broadcast("icpt:room", "shout", json::value(json::object{{"text", "hi"}}));
  f.h.pubsub().broadcast("icpt:room", "shout",
                         json::value(json::object{{"text", "psst"}, {"to", "bob"}}));
  f.h.pubsub().broadcast("icpt:room", "news", json::value(json::object{{"x", 1}}));
  // Intercepted shouts take a hop through each channel while news goes straight to the
  // outboxes, so their relative order is not fixed.
  CHECK(lines(ann.out->next_sorted(2)) ==
        lines(sorted({news, shout("1", R"({"text":"hi","for":"ann"})")})));
  CHECK(lines(bob.out->next_sorted(3)) ==
        lines(sorted({news, shout("5", R"({"text":"hi","for":"bob"})"),
                      shout("5", R"({"text":"psst","for":"bob"})")})));
  // A shout from a client's own channel is intercepted on its way back too.
  ann.send("1", "2", "icpt:room", "shout", R"({"text":"from ann"})");
  CHECK(ann.next() == shout("1", R"({"text":"from ann","for":"ann"})"));
  CHECK(bob.next() == shout("5", R"({"text":"from ann","for":"bob"})"));
  CHECK(lines(ann.out->rest()) == "");  // psst was dropped for ann
  CHECK(lines(bob.out->rest()) == "");
  // handle_out ran for every shout in every channel (ann's drop included), never for news.
  auto entries = f.log->entries();
  CHECK(std::count(entries.begin(), entries.end(), "out icpt:room ann shout") == 3);
  CHECK(std::count(entries.begin(), entries.end(), "out icpt:room bob shout") == 3);
  CHECK(std::count_if(entries.begin(), entries.end(), [](const std::string& e) {
          return e.find("news") != std::string::npos;
        }) == 0);
}

TEST_CASE("state machine: over the message rate a join is refused, other events are dropped") {
  fixture f;
  // Four tokens, and practically no refill during the test.
  f.h.settings().message_rate = rate_limit{0.01, 4};
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");  // token 1
  c.send("1", "2", "room:a", "ping");
  CHECK(c.next() == ok_reply("1", "2", "room:a"));
  c.send("1", "3", "room:a", "ping");
  c.send("1", "4", "room:a", "ping");  // the last token
  CHECK(c.next() == ok_reply("1", "3", "room:a"));
  CHECK(c.next() == ok_reply("1", "4", "room:a"));
  c.send("1", "5", "room:a", "ping");            // over: dropped without a reply
  c.send(nullptr, "6", "phoenix", "heartbeat");  // never limited
  CHECK(c.next() == ok_reply(nullptr, "6", "phoenix"));
  c.send("7", "7", "room:b", "phx_join", R"({"user":"ann"})");  // over: refused
  CHECK(c.next() == error_reply("7", "7", "room:b", R"({"reason":"rate_limited"})"));
  c.send("1", "8", "room:a", "phx_leave");  // never limited
  CHECK(c.next() == ok_reply("1", "8", "room:a"));
  CHECK(c.next() == v2("1", "1", "room:a", "phx_close"));
  CHECK(lines(c.out->rest()) == "");
  CHECK(lines(f.log->entries()) ==
        lines({"join room:a ann", "in room:a ann ping", "in room:a ann ping", "in room:a ann ping",
               "terminate room:a ann left"}));
}

TEST_CASE("state machine: the channel rate limits each joined topic on its own") {
  fixture f;
  f.h.settings().channel_rate = rate_limit{0.01, 2};
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");  // a topic without a channel has no bucket yet
  join_ok(c, "2", "room:b", "ann");
  c.send("1", "3", "room:a", "ping");
  c.send("1", "4", "room:a", "ping");
  CHECK(c.next() == ok_reply("1", "3", "room:a"));
  CHECK(c.next() == ok_reply("1", "4", "room:a"));
  c.send("1", "5", "room:a", "ping");  // over room:a's limit
  c.send("2", "6", "room:b", "ping");
  CHECK(c.next() == ok_reply("2", "6", "room:b"));
  c.send("9", "9", "room:a", "phx_join", R"({"user":"bob"})");  // a rejoin takes room:a's too
  CHECK(c.next() == error_reply("9", "9", "room:a", R"({"reason":"rate_limited"})"));
  CHECK(lines(c.out->rest()) == "");
  auto entries = f.log->entries();
  CHECK(std::count(entries.begin(), entries.end(), "in room:a ann ping") == 2);
}

TEST_CASE("state machine: a join beyond max_channels is refused with too many channels joined") {
  fixture f;
  f.h.settings().max_channels = 2;
  auto c = f.h.connect();
  const std::string too_many = R"({"reason":"too many channels joined"})";
  join_ok(c, "1", "room:a", "ann");
  join_ok(c, "2", "room:b", "ann");
  c.send("3", "3", "room:c", "phx_join", R"({"user":"ann"})");
  c.send("3", "4", "room:c", "ping");  // not registered
  CHECK(c.next() == error_reply("3", "3", "room:c", too_many));
  CHECK(c.next() == error_reply(nullptr, "4", "room:c", unmatched));
  // A duplicate join at the cap replaces the old channel: no new slot needed.
  c.send("5", "5", "room:b", "phx_join", R"({"user":"bob"})");
  CHECK(c.next() == ok_reply("5", "5", "room:b", joined("room:b")));
  CHECK(c.next() == v2("2", "2", "room:b", "phx_close"));
  // Leaving frees a slot once the channel has ended, which its phx_close tells.
  c.send("1", "6", "room:a", "phx_leave");
  CHECK(c.next() == ok_reply("1", "6", "room:a"));
  CHECK(c.next() == v2("1", "1", "room:a", "phx_close"));
  join_ok(c, "7", "room:c", "ann");
  CHECK(lines(c.out->rest()) == "");
}

TEST_CASE("state machine: a disconnect broadcast on the socket's id topic closes it with 1001") {
  fixture f;
  auto victim = f.h.connect("users_socket:42");
  auto bystander = f.h.connect("users_socket:43");
  join_ok(victim, "1", "room:a", "victim");
  victim.round_trip("h1");  // the socket follows its id topic by now
  bystander.round_trip("h2");
  f.h.pubsub().broadcast("users_socket:42", "hello", json::value(json::object{}));  // ignored
  std::this_thread::sleep_for(quiet_period);
  CHECK_FALSE(victim.out->closed());
  CHECK_FALSE(victim.end->reason());
  f.h.pubsub().broadcast("users_socket:42", "disconnect", json::value(json::object{}));
  REQUIRE(victim.out->wait_closed());
  CHECK(*victim.out->closed() ==
        std::make_pair(close_code::going_away, std::string("disconnected")));
  REQUIRE(victim.end->wait());
  CHECK(stop_reason::from(*victim.end->reason()).code == stop_code::disconnected);
  // Its channel ends with it, and nothing more is queued for a connection that is gone.
  REQUIRE(f.log->wait_for("terminate room:a victim disconnected"));
  CHECK(victim.next() == ok_reply(nullptr, "h1", "phoenix"));
  CHECK(lines(victim.out->rest()) == "");
  // Another id is not concerned.
  bystander.round_trip("h3");
  CHECK_FALSE(bystander.out->closed());
  CHECK_FALSE(bystander.end->reason());
}

TEST_CASE("state machine: an exit message from any actor stops the socket; a normal one does not") {
  fixture f;
  auto c = f.h.connect();
  join_ok(c, "1", "room:a", "ann");
  caf::scoped_actor self{f.h.system()};
  self->send_exit(c.socket, caf::exit_reason::normal);  // as in Erlang: no reason to stop
  c.round_trip("h1");
  CHECK_FALSE(c.out->closed());
  CHECK_FALSE(c.end->reason());
  self->send_exit(c.socket, caf::exit_reason::user_shutdown);
  REQUIRE(c.end->wait());
  CHECK(*c.end->reason() == caf::exit_reason::user_shutdown);
  // An ending socket closes its connection, with a code phoenix.js reconnects on.
  REQUIRE(c.out->wait_closed());
  CHECK(c.out->closed()->first == close_code::going_away);
  // Its channel ends with it.
  REQUIRE(f.log->wait_for("terminate room:a ann shutdown"));
}

TEST_CASE(
    "state machine: a join answered later (after asking another actor) replies before any push "
    "or broadcast; the client's next messages wait for it") {
  fixture f;
  auto c = f.h.connect();
  c.send("1", "1", "later:a", "phx_join");
  c.send(nullptr, "h1", "phoenix", "heartbeat");  // the socket answers it once the join is
  CHECK(c.next() == ok_reply("1", "1", "later:a", R"({"value":7})"));
  // The push and the broadcast come from two actors (channel and pubsub shard): either first.
  const auto pushed = v2("1", nullptr, "later:a", "pushed", R"({"value":7})");
  const auto broadcast = v2(nullptr, nullptr, "later:a", "value", R"({"value":7})");
  const auto heartbeat = ok_reply(nullptr, "h1", "phoenix");
  std::vector<std::string> after{c.next(), c.next(), c.next()};
  CHECK(lines(sorted(after)) == lines(sorted({pushed, broadcast, heartbeat})));
  CHECK(std::find(after.begin(), after.end(), pushed) <
        std::find(after.begin(), after.end(), heartbeat));
  CHECK(lines(c.out->rest()) == "");
}

TEST_CASE("state machine: a join refused later leaves no channel; one never answered times out") {
  fixture f;
  f.h.settings().join_timeout = 50ms;
  auto c = f.h.connect();
  c.send("1", "1", "later:a", "phx_join", R"({"refuse":true})");
  CHECK(c.next() == error_reply("1", "1", "later:a", R"({"reason":"no"})"));
  c.send("1", "2", "later:a", "ping");
  CHECK(c.next() == error_reply(nullptr, "2", "later:a", unmatched));
  c.send("3", "3", "later:b", "phx_join", R"({"never":true})");
  CHECK(c.next() == error_reply("3", "3", "later:b", R"({"reason":"join crashed"})"));
  c.send(nullptr, "h1", "phoenix", "heartbeat");  // the socket carries on
  CHECK(c.next() == ok_reply(nullptr, "h1", "phoenix"));
  CHECK(lines(c.out->rest()) == "");
}

TEST_CASE("state machine: a join that throws gets join crashed; the socket carries on") {
  fixture f;
  // The answer currently waits for the join timeout (see the next test): keep that short here.
  f.h.settings().join_timeout = 300ms;
  auto c = f.h.connect();
  join_ok(c, "1", "room:ok", "ann");
  c.send("2", "2", "room:boom", "phx_join", R"({"user":"ann","throw":true})");
  c.send("2", "3", "room:boom", "ping");
  c.send("1", "4", "room:ok", "ping");
  CHECK(c.next() == error_reply("2", "2", "room:boom", R"({"reason":"join crashed"})"));
  CHECK(c.next() == error_reply(nullptr, "3", "room:boom", unmatched));
  CHECK(c.next() == ok_reply("1", "4", "room:ok"));
  CHECK(lines(c.out->rest()) == "");
  // No terminate: the channel never joined.
  CHECK(lines(f.log->entries()) ==
        lines({"join room:ok ann", "join room:boom ann", "in room:ok ann ping"}));
  CHECK_FALSE(c.end->reason());
}

// A join() that throws ends its channel, which answers the socket's join request on its way out
// (CAF 0.17 would drop the promise unanswered): the connection does not wait for the join timeout,
// during which it would handle nothing else, heartbeats included.
TEST_CASE("state machine: a join that throws is answered at once, not at the join timeout") {
  fixture f;
  constexpr auto scale = BERYL_TEST_TIME_SCALE;
  f.h.settings().join_timeout = 600ms * scale;  // what waiting for it would cost
  auto c = f.h.connect();
  c.send("2", "2", "room:boom", "phx_join", R"({"user":"ann","throw":true})");
  c.send(nullptr, "3", "phoenix", "heartbeat");
  CHECK(c.next(300ms * scale) ==
        error_reply("2", "2", "room:boom", R"({"reason":"join crashed"})"));
  CHECK(c.next(300ms * scale) == ok_reply(nullptr, "3", "phoenix"));
}

// A channel that crashes after join() returned ok but before the pubsub acknowledged its
// subscription (here: a message it sent itself during join) hands the join request to the pubsub
// shard, which answers after writing the ok reply and removing the subscription: the client gets
// the reply, then phx_error, and no broadcast of a topic it has no channel on.
TEST_CASE(
    "state machine: a channel that crashes right after its join gets phx_error, no broadcasts") {
  fixture f;
  constexpr auto scale = BERYL_TEST_TIME_SCALE;
  f.h.settings().join_timeout = 600ms * scale;  // what waiting for it would cost
  auto c = f.h.connect();
  c.send("1", "1", "room:a", "phx_join", R"({"user":"ann","crash_after_join":true})");
  CHECK(c.next() == ok_reply("1", "1", "room:a", joined("room:a")));
  CHECK(c.next(300ms * scale) ==
        v2("1", "1", "room:a", "phx_error", R"({"reason":"channel_crash"})"));
  c.round_trip("h1");
  f.h.pubsub().broadcast("room:a", "tick", {{"n", 1}});         // an object in braces
  c.send("5", "5", "room:a", "phx_join", R"({"user":"ann"})");  // phoenix.js rejoins
  REQUIRE(c.out->wait_for(ok_reply("5", "5", "room:a", joined("room:a"))));
  f.h.pubsub().broadcast("room:a", "tick", {{"n", 2}});
  REQUIRE(c.out->wait_for(v2(nullptr, nullptr, "room:a", "tick", R"({"n":2})")));
  auto frames = c.out->settled();
  auto count = [&](const std::string& x) { return std::count(frames.begin(), frames.end(), x); };
  CHECK(count(error_reply("1", "1", "room:a", R"({"reason":"join crashed"})")) == 0);
  CHECK(count(v2(nullptr, nullptr, "room:a", "tick", R"({"n":1})")) == 0);  // before the rejoin
  CHECK(count(v2(nullptr, nullptr, "room:a", "tick", R"({"n":2})")) == 1);
}

// join() is synchronous, so a kill cannot interrupt it: a channel whose join() returns after the
// deadline the socket gave it ends without subscribing. The client gets "join crashed" and
// nothing more: no late ok reply, no broadcasts of the topic.
TEST_CASE("state machine: a join slower than the join timeout gets join crashed and nothing more") {
  fixture f;
  f.h.settings().join_timeout = 50ms;
  auto c = f.h.connect();
  c.send("1", "1", "room:a", "phx_join", R"({"user":"ann","sleep_ms":200})");
  CHECK(c.next() == error_reply("1", "1", "room:a", R"({"reason":"join crashed"})"));
  c.send("1", "2", "room:a", "ping");
  CHECK(c.next() == error_reply(nullptr, "2", "room:a", unmatched));
  // Well after join() has returned.
  CHECK_FALSE(c.out->wait_for(ok_reply("1", "1", "room:a", joined("room:a")), 400ms));
  f.h.pubsub().broadcast("room:a", "tick", json::value(json::object{}));
  CHECK(lines(c.out->rest()) == "");
}
