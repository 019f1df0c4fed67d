#pragma once
// The demo's chat rooms, "room:*" (the README's contract). Also a tour of the channel API.
#include "actors/channel.hpp"

#include <chrono>
#include <stdexcept>

namespace beryl::app {

class room_channel : public beryl::channel {
 public:
  using beryl::channel::channel;

 protected:
  beryl::reply join(const beryl::payload& params) override {
    if (topic() == "room:forbidden") return beryl::reply::error({{"reason", "unauthorized"}});
    if (auto* p = beryl::as_object(params))
      if (auto* user = p->if_contains("user"); user && user->is_string())
        user_ = user->as_string().c_str();
    online_at_ = now_ms();
    // A user name over --max-presence-meta: {"reason": "meta too large"}.
    if (auto refused = track(user_, {{"online_at", online_at_}}))
      return beryl::reply::error({{"reason", *refused}});
    push_presence_state();  // arrives after the join reply
    return beryl::reply::ok({{"joined", topic()}});
  }

  std::optional<beryl::reply> handle_in(const std::string& event,
                                        const beryl::payload& body) override {
    if (event == "ping") return beryl::reply::ok(body);
    if (event == "shout") {
      broadcast("shout", body);
      return beryl::noreply;
    }
    if (event == "shout_others") {
      broadcast_from("shout_others", body);
      return beryl::noreply;
    }
    if (event == "kick") return kick(body);
    if (event == "status") return set_status(body);
    if (event == "crash") throw std::runtime_error("crash requested by the client");
    return beryl::reply::error({{"reason", "unknown event"}});
  }

  // Tell the others who left, and why (Phoenix's terminate reasons).
  void terminate(const beryl::stop_reason& reason) override {
    broadcast_from("left", boost::json::object{{"user", user_}, {"reason", reason.name()}});
  }

 private:
  // Closes every connection whose socket id is given, like Phoenix's
  // Endpoint.broadcast("users_socket:42", "disconnect", %{}).
  beryl::reply kick(const beryl::payload& body) {
    auto* p = beryl::as_object(body);
    auto* id = p ? p->if_contains("socket_id") : nullptr;
    if (!id || !id->is_string()) return beryl::reply::error({{"reason", "socket_id expected"}});
    pubsub().broadcast(std::string(id->as_string()), "disconnect",
                       boost::json::value(boost::json::object{}));
    return beryl::reply::ok();
  }

  // A new presence meta for this member: {"online_at": ..., "status": S}.
  beryl::reply set_status(const beryl::payload& body) {
    auto* p = beryl::as_object(body);
    auto* status = p ? p->if_contains("status") : nullptr;
    if (!status || !status->is_string())
      return beryl::reply::error({{"reason", "status expected"}});
    if (auto refused = update_presence(user_, {{"online_at", online_at_}, {"status", *status}}))
      return beryl::reply::error({{"reason", *refused}});
    return beryl::reply::ok();
  }

  static std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  std::string user_ = "anonymous";
  std::int64_t online_at_ = 0;
};

}  // namespace beryl::app
