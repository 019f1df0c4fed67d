#pragma once
// In-process scaffolding for the socket state machine (docs/protocol.md §4): a real actor system,
// a real pubsub and real socket actors, driven with client frames decoded by the real V2
// serializer and handed over exactly as a transport does (anon_send of a beryl::message). What a
// client would receive is recorded by an outbox, frame by frame, for exact comparisons.
#include "actors/pubsub.hpp"
#include "actors/router.hpp"
#include "actors/socket.hpp"
#include "actors/stop_reason.hpp"
#include "core/json_serializer.hpp"
#include "core/outbox.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace beryl::testing {

using namespace std::chrono_literals;

// Long enough for a loaded 2-core machine, short enough for a failing test to end quickly.
inline constexpr std::chrono::milliseconds wait_limit = 3s;
// How long "nothing else arrives" is watched for.
inline constexpr std::chrono::milliseconds quiet_period = 50ms;

inline const serializer& v2_format() {
  static const wire::v2_serializer format;
  return format;
}

// A V2 frame [join_ref, ref, topic, event, payload] as boost::json writes it; a null ref is
// nullptr. Expected and recorded frames both go through boost::json, so they compare as text:
// exact values and key order, and readable when they differ.
inline std::string v2(const char* join_ref, const char* ref, std::string_view topic,
                      std::string_view event, std::string_view payload_json = "{}") {
  auto as_ref = [](const char* r) -> boost::json::value {
    return r ? boost::json::value(r) : boost::json::value(nullptr);
  };
  return boost::json::serialize(boost::json::array{as_ref(join_ref), as_ref(ref), topic, event,
                                                   boost::json::parse(payload_json)});
}

inline std::string reply_frame(const char* join_ref, const char* ref, std::string_view topic,
                               std::string_view status, std::string_view response_json = "{}") {
  return v2(join_ref, ref, topic, "phx_reply",
            std::string(R"({"status":")") + std::string(status) + R"(","response":)" +
                std::string(response_json) + "}");
}

inline std::string ok_reply(const char* join_ref, const char* ref, std::string_view topic,
                            std::string_view response_json = "{}") {
  return reply_frame(join_ref, ref, topic, "ok", response_json);
}

inline std::string error_reply(const char* join_ref, const char* ref, std::string_view topic,
                               std::string_view response_json) {
  return reply_frame(join_ref, ref, topic, "error", response_json);
}

// One string per line, so that doctest prints both sides of a failed comparison of frame lists.
inline std::string lines(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) out += x + "\n";
  return out;
}

inline std::vector<std::string> sorted(std::vector<std::string> xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

// A thread-safe log of strings that can be waited on: what the test channels did.
class journal {
 public:
  void add(std::string entry) {
    {
      std::lock_guard lock(mutex_);
      entries_.push_back(std::move(entry));
    }
    changed_.notify_all();
  }

  std::vector<std::string> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

  // Waits until `pred(entries)` holds; false after `limit`.
  bool wait_until(const std::function<bool(const std::vector<std::string>&)>& pred,
                  std::chrono::milliseconds limit = wait_limit) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return pred(entries_); });
  }

  // Waits for an entry equal to `x`.
  bool wait_for(const std::string& x, std::chrono::milliseconds limit = wait_limit) const {
    return wait_until(
        [&](const auto& xs) { return std::find(xs.begin(), xs.end(), x) != xs.end(); }, limit);
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> entries_;
};

// The client's side of a connection: every frame queued for it, as normalized JSON text (binary
// frames as "<binary N bytes>"), and how the server closed it.
class client_outbox : public outbox {
 public:
  void send(frame f) override {
    std::string text;
    if (f.binary) {
      text = "<binary " + std::to_string(f.size()) + " bytes>";
    } else {
      boost::system::error_code ec;
      auto v = boost::json::parse(f.contents(), ec);
      text = ec ? "<not JSON: " + f.contents() + ">" : boost::json::serialize(v);
    }
    {
      std::lock_guard lock(mutex_);
      frames_.push_back(std::move(text));
    }
    changed_.notify_all();
  }

  void close(std::uint16_t code, std::string reason) override {
    {
      std::lock_guard lock(mutex_);
      if (!close_) close_ = std::make_pair(code, std::move(reason));
    }
    changed_.notify_all();
  }

  std::vector<std::string> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }

  std::optional<std::pair<std::uint16_t, std::string>> closed() const {
    std::lock_guard lock(mutex_);
    return close_;
  }

  // Waits for a frame that satisfies `pred`.
  bool wait_for_match(const std::function<bool(const std::string&)>& pred,
                      std::chrono::milliseconds limit = wait_limit) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit,
                             [&] { return std::any_of(frames_.begin(), frames_.end(), pred); });
  }

  // Waits for a frame equal to `expected`.
  bool wait_for(const std::string& expected, std::chrono::milliseconds limit = wait_limit) const {
    return wait_for_match([&](const std::string& f) { return f == expected; }, limit);
  }

  bool wait_closed(std::chrono::milliseconds limit = wait_limit) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return close_.has_value(); });
  }

  // Waits `quiet_period`, then returns every frame: the last check of a test, so that a frame
  // that should not come has had the time to.
  std::vector<std::string> settled() const {
    std::this_thread::sleep_for(quiet_period);
    return frames();
  }

  // The frame after the last one next() returned, in queue order, waiting for it up to `limit`;
  // "<nothing>" when none came (and the position stays).
  std::string next(std::chrono::milliseconds limit = wait_limit) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, limit, [&] { return frames_.size() > read_; })) return "<nothing>";
    return frames_[read_++];
  }

  // The next `n` frames, sorted: for frames from different actors, whose order is not fixed.
  std::vector<std::string> next_sorted(std::size_t n,
                                       std::chrono::milliseconds limit = wait_limit) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(next(limit));
    std::sort(out.begin(), out.end());
    return out;
  }

  // Every frame after those next() returned, once `quiet_period` has passed: what should not be.
  std::vector<std::string> rest() {
    std::this_thread::sleep_for(quiet_period);
    std::lock_guard lock(mutex_);
    std::vector<std::string> out(frames_.begin() + static_cast<std::ptrdiff_t>(read_),
                                 frames_.end());
    read_ = frames_.size();
    return out;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> frames_;
  std::size_t read_ = 0;  // next()'s position
  std::optional<std::pair<std::uint16_t, std::string>> close_;
};

// The end of an actor, with its exit reason.
class end_watch {
 public:
  void ended(const caf::error& reason) {
    {
      std::lock_guard lock(mutex_);
      reason_ = reason;
    }
    changed_.notify_all();
  }

  bool wait(std::chrono::milliseconds limit = wait_limit) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return reason_.has_value(); });
  }

  std::optional<caf::error> reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::optional<caf::error> reason_;
};

// One connection: its socket actor and what its client receives.
struct test_client {
  std::shared_ptr<client_outbox> out;
  socket_actor socket;
  std::shared_ptr<end_watch> end;

  // What a transport does with an inbound text frame: decode it with the connection's serializer
  // and hand the message to the socket actor.
  void send(const char* join_ref, const char* ref, std::string_view topic, std::string_view event,
            std::string_view payload_json = "{}") const {
    auto decoded = v2_format().decode(v2(join_ref, ref, topic, event, payload_json), false);
    REQUIRE(std::holds_alternative<message>(decoded));
    caf::anon_send(socket, std::move(std::get<message>(decoded)));
  }

  // A heartbeat and its reply: once it is back, the socket actor has handled everything sent
  // before it.
  void round_trip(const char* ref) const {
    send(nullptr, ref, "phoenix", "heartbeat");
    REQUIRE(out->wait_for(ok_reply(nullptr, ref, "phoenix")));
  }

  std::string next(std::chrono::milliseconds limit = wait_limit) const { return out->next(limit); }
};

// An actor system with 2 threads, a pubsub with 2 shards, and sockets on the routes and settings
// the test set up before its first connect().
class socket_harness {
 public:
  socket_harness() {
    cfg_.set("scheduler.max-threads", 2);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    pubsub_ = spawn_pubsub(*sys_, 2);
  }

  ~socket_harness() {
    // As a transport does when its connection ends; the channels follow their socket.
    for (auto& c : clients_) {
      send_stop(caf::actor_cast<caf::actor>(c.socket), make_error(stop_code::closed));
      c.end->wait();
    }
    caf::anon_send_exit(pubsub_.owner, caf::exit_reason::user_shutdown);
  }

  socket_harness(const socket_harness&) = delete;
  socket_harness& operator=(const socket_harness&) = delete;

  router& routes() { return *routes_; }
  socket_settings& settings() { return settings_; }
  const pubsub_ref& pubsub() const { return pubsub_.shards; }
  caf::actor_system& system() { return *sys_; }

  test_client connect(std::optional<std::string> id = std::nullopt) {
    if (!deps_) {
      auto deps = std::make_shared<socket_deps>();
      deps->routes = routes_;
      deps->pubsub = pubsub_.shards;
      deps->settings = settings_;
      deps_ = std::move(deps);
    }
    auto info = std::make_shared<socket_info>();
    info->out = std::make_shared<client_outbox>();
    info->format = &v2_format();
    info->id = std::move(id);
    info->transport = "websocket";
    info->peer = "127.0.0.1:" + std::to_string(40000 + clients_.size());
    test_client c{
        std::static_pointer_cast<client_outbox>(info->out), {}, std::make_shared<end_watch>()};
    c.socket = spawn_socket(*sys_, std::move(info), deps_);
    c.socket->attach_functor([end = c.end](const caf::error& reason) { end->ended(reason); });
    clients_.push_back(c);
    return c;
  }

 private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  pubsub_handle pubsub_;
  std::shared_ptr<router> routes_ = std::make_shared<router>();
  socket_settings settings_;
  std::shared_ptr<const socket_deps> deps_;
  std::vector<test_client> clients_;
};

}  // namespace beryl::testing
