#include "app/runtime/endpoint.hpp"

#include "actors/atoms.hpp"
#include "actors/message_types.hpp"

#include <caf/send.hpp>

namespace beryl::app {

bool endpoint::broadcast(std::string topic, std::string event, payload body) const {
  caf::actor pubsub;
  {
    std::lock_guard lock(mutex_);
    if (find_pubsub_) pubsub = find_pubsub_();
  }
  if (!pubsub) return false;
  caf::anon_send(pubsub, atoms::broadcast::value, std::move(topic), std::move(event),
                 std::move(body));
  return true;
}

bool endpoint::disconnect(const std::string& socket_id) const {
  // Every socket with an id follows the topic of that name; "disconnect" there closes it.
  return broadcast(socket_id, "disconnect", boost::json::value(boost::json::object{}));
}

void endpoint::bind(std::function<caf::actor()> find_pubsub) {
  std::lock_guard lock(mutex_);
  find_pubsub_ = std::move(find_pubsub);
}

void endpoint::unbind() {
  std::lock_guard lock(mutex_);
  find_pubsub_ = nullptr;
}

}  // namespace beryl::app
