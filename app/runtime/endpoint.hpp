#pragma once
// The running server as the app's own code sees it outside channels (HTTP routes, timers,
// threads, other actors), like Phoenix's Endpoint.broadcast. Make one, pass it to serve() and
// capture it where it is needed: its calls are safe from any thread, and always reach the current
// incarnation of the supervised pubsub, however often it was restarted.
#include "actors/coordinator.hpp"
#include "actors/pubsub.hpp"
#include "core/payload.hpp"

#include <functional>
#include <mutex>
#include <string>

namespace beryl::app {

class endpoint {
 public:
  // Sends `event` with `body` to every subscriber of `topic`, as a channel's broadcast does. False
  // while no server runs (before serve() has started it, or once it stops).
  bool broadcast(std::string topic, std::string event, payload body) const;
  // The same with an object written in braces: broadcast("room:ops", "deployed", {{"ok", true}}).
  bool broadcast(std::string topic, std::string event, boost::json::object body) const {
    return broadcast(std::move(topic), std::move(event), payload(std::move(body)));
  }

  // Closes every connection whose on_connect gave it this socket id, with 1001, on every node of
  // the cluster: phoenix.js reconnects and on_connect decides again. As in Phoenix, this is a
  // "disconnect" broadcast on the topic named by the socket id, which a channel can send too.
  bool disconnect(const std::string& socket_id) const;

  // For serve(): how to find the current pubsub and coordinator, and that the server is gone.
  void bind(std::function<pubsub_actor()> find_pubsub,
            std::function<coordinator_actor()> find_coordinator);
  void unbind();
  // Their current incarnations; empty handles while no server runs.
  pubsub_actor pubsub() const;
  coordinator_actor coordinator() const;

 private:
  mutable std::mutex mutex_;
  std::function<pubsub_actor()> find_pubsub_;
  std::function<coordinator_actor()> find_coordinator_;
};

}  // namespace beryl::app
