#pragma once
// The demo's chat rooms, "room:*" (the README's contract). Also a tour of the channel API.
#include "app/demo/presence_channel.hpp"

#include <stdexcept>

namespace beryl::app {

class room_channel : public presence_channel {
 public:
  using presence_channel::presence_channel;

 protected:
  beryl::reply join(const beryl::payload& params) override {
    if (topic() == "room:forbidden") return beryl::reply::error({{"reason", "unauthorized"}});
    // A user name over --max-presence-meta: {"reason": "meta too large"}.
    if (auto refused = track_member(params)) return *refused;
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
    broadcast_from("left", {{"user", user_}, {"reason", reason.name()}});
  }

 private:
  // Closes every connection whose socket id is given, like Phoenix's
  // Endpoint.broadcast("users_socket:42", "disconnect", %{}).
  beryl::reply kick(const beryl::payload& body) {
    auto* p = beryl::as_object(body);
    auto* id = p ? p->if_contains("socket_id") : nullptr;
    if (!id || !id->is_string()) return beryl::reply::error({{"reason", "socket_id expected"}});
    pubsub().broadcast(std::string(id->as_string()), "disconnect", boost::json::object{});
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
};

}  // namespace beryl::app
