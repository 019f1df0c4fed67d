#pragma once
// "presence:*": presence and nothing else, so the benchmark suite measures what presence costs
// (room:* adds a chat on top: its "left" broadcast alone is a message to every member per leave).
#include "actors/channel.hpp"

#include <chrono>

namespace beryl::app {

class presence_channel : public beryl::channel {
 public:
  using beryl::channel::channel;

 protected:
  beryl::reply join(const beryl::payload& params) override {
    if (auto refused = track_member(params)) return *refused;
    return beryl::reply::ok();
  }

  std::optional<beryl::reply> handle_in(const std::string& event,
                                        const beryl::payload& body) override {
    if (event == "ping") return beryl::reply::ok(body);
    return beryl::noreply;
  }

  // Tracks the member under params' "user" with meta {"online_at": ms}; its presence_state follows
  // the join reply. An error reply when the presence is over --max-presence-meta.
  std::optional<beryl::reply> track_member(const beryl::payload& params) {
    if (auto* p = beryl::as_object(params))
      if (auto* user = p->if_contains("user"); user && user->is_string())
        user_ = user->as_string().c_str();
    online_at_ = now_ms();
    if (auto refused = track(user_, {{"online_at", online_at_}}))
      return beryl::reply::error({{"reason", *refused}});
    push_presence_state();
    return std::nullopt;
  }

  static std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  std::string user_ = "anonymous";
  std::int64_t online_at_ = 0;
};

}  // namespace beryl::app
