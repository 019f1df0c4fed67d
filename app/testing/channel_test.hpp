#pragma once
// A channel test kit, as Phoenix.ChannelTest: test a channel class in process, without a network,
// through the real socket actor, pubsub and presence. The test plays the client: it joins, pushes
// and leaves, and expects what the client would receive. Any test framework works: an expect_*
// that fails throws testing::expectation_failed, whose message says what arrived instead.
//
//   beryl::testing::channel_test t;
//   t.routes().add<clock_channel>("clock:*");
//   auto socket = t.connect();
//   auto joined = socket.join("clock:utc");                       // subscribe_and_join
//   CHECK(joined.is_ok());
//   auto ref = socket.push("clock:utc", "say", {{"text", "hi"}}); // push
//   socket.expect_reply(ref);                                      // assert_reply
//   socket.expect_broadcast("clock:utc", "say");                   // assert_broadcast
//   socket.expect_push("clock:utc", "tick", std::chrono::seconds(2));  // assert_push
#include "actors/pubsub.hpp"
#include "actors/router.hpp"
#include "actors/socket.hpp"
#include "core/payload.hpp"
#include "core/reply.hpp"

#include <boost/json/object.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace beryl::testing {

// How long an expect_* waits unless told: ample on a loaded machine; a passing test does not wait.
inline constexpr std::chrono::milliseconds default_wait{2000};
// How long a refute_* watches for what must not come.
inline constexpr std::chrono::milliseconds default_refute_wait{100};

class expectation_failed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One message to the client: [join_ref, ref, topic, event, payload], the payload of a binary frame
// as beryl::binary. A reply (phx_reply) has its status apart and its response as the body.
struct client_message {
  std::optional<std::string> join_ref;
  std::optional<std::string> ref;
  std::string topic;
  std::string event;
  payload body;
  std::string status;  // replies only

  std::string describe() const;
};

class test_socket;

// The server side: an actor system with a pubsub, presence and the routes. Add the channels to
// routes() before the first connect(). Sockets still open are closed when it ends.
class channel_test {
 public:
  explicit channel_test(socket_settings settings = {});
  ~channel_test();
  channel_test(const channel_test&) = delete;
  channel_test& operator=(const channel_test&) = delete;

  router& routes();
  // A connected socket, as on_connect would have made it (Phoenix's socket/3).
  test_socket connect(boost::json::object assigns = {},
                      std::optional<std::string> id = std::nullopt);

  caf::actor_system& system();
  // To broadcast as the app would from outside a channel (Endpoint.broadcast).
  const pubsub_ref& pubsub() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// One client connection. It must not outlive the channel_test it came from.
class test_socket {
 public:
  // Sends phx_join and waits for its reply (subscribe_and_join); throws when none comes.
  reply join(const std::string& topic, boost::json::object params = {},
             std::chrono::milliseconds wait = default_wait);
  // Sends `event` to the topic's channel; returns its ref, for expect_reply.
  std::string push(const std::string& topic, const std::string& event,
                   payload body = boost::json::object{});
  // Sends phx_leave; returns its ref.
  std::string leave(const std::string& topic);
  // The client goes away: its channels end with `closed`.
  void close();

  // The reply to `ref`, with `status`; returns its response (assert_reply).
  payload expect_reply(const std::string& ref, const std::string& status = "ok",
                       std::chrono::milliseconds wait = default_wait);
  // A push from the topic's channel to this client (assert_push); returns its payload.
  payload expect_push(const std::string& topic, const std::string& event,
                      std::chrono::milliseconds wait = default_wait);
  // A broadcast on a topic this socket joined, as the topic's subscribers get it, before any
  // intercept and from any sender (assert_broadcast: the kit subscribes to the topic at join).
  payload expect_broadcast(const std::string& topic, const std::string& event,
                           std::chrono::milliseconds wait = default_wait);
  // No such push or broadcast arrives within `wait` (refute_push, refute_broadcast).
  void refute_push(const std::string& topic, const std::string& event,
                   std::chrono::milliseconds wait = default_refute_wait);
  void refute_broadcast(const std::string& topic, const std::string& event,
                        std::chrono::milliseconds wait = default_refute_wait);
  // The topic's channel crashed: the client gets phx_error and would rejoin.
  void expect_crash(const std::string& topic, std::chrono::milliseconds wait = default_wait);
  // The topic's channel ended normally (stop(), a leave): phx_close.
  void expect_close(const std::string& topic, std::chrono::milliseconds wait = default_wait);
  // The presence_state pushed to this client, and the next presence_diff it gets ({"joins",
  // "leaves"}; never one of changes its state already holds).
  boost::json::object expect_presence_state(const std::string& topic,
                                            std::chrono::milliseconds wait = default_wait);
  boost::json::object expect_presence_diff(const std::string& topic,
                                           std::chrono::milliseconds wait = default_wait);

  // Everything received so far, in order, expected or not.
  std::vector<client_message> received() const;

  struct state;

 private:
  friend class channel_test;
  explicit test_socket(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

}  // namespace beryl::testing
