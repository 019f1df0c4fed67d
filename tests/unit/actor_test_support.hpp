#pragma once
// What the unit tests of actors share: an actor system sized like the server's, an outbox that
// records what it is sent, and waiting for a condition that other threads make true.
#include "core/frame.hpp"
#include "core/outbox.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace beryl::testing {

// An actor system with two scheduler threads, as the server runs on two cores.
struct test_actor_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  test_actor_system() {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

// Records every frame and the close, from any thread.
class recording_outbox : public outbox {
 public:
  void send(frame f) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(std::move(f));
  }
  void close(std::uint16_t code, std::string) override {
    std::lock_guard lock(mutex_);
    closed_with_ = code;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return frames_.size();
  }
  std::vector<frame> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  // The text frames, parsed.
  std::vector<boost::json::value> json_frames() const {
    std::vector<boost::json::value> out;
    for (const auto& f : frames())
      if (!f.binary) out.push_back(boost::json::parse(f.contents()));
    return out;
  }
  std::optional<std::uint16_t> closed_with() const {
    std::lock_guard lock(mutex_);
    return closed_with_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<frame> frames_;
  std::optional<std::uint16_t> closed_with_;
};

// Polls `pred` for up to 5 s.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace beryl::testing
