#include "app/runtime/endpoint.hpp"

#include "actors/atoms.hpp"
#include "actors/message_types.hpp"

#include <caf/send.hpp>

namespace beryl::app {

pubsub_actor endpoint::pubsub() const {
  std::lock_guard lock(mutex_);
  return find_pubsub_ ? find_pubsub_() : pubsub_actor{};
}

coordinator_actor endpoint::coordinator() const {
  std::lock_guard lock(mutex_);
  return find_coordinator_ ? find_coordinator_() : coordinator_actor{};
}

bool endpoint::broadcast(std::string topic, std::string event, payload body) const {
  auto target = pubsub();
  if (!target) return false;
  caf::anon_send(target, atoms::broadcast::value, std::move(topic), std::move(event),
                 std::move(body));
  return true;
}

bool endpoint::disconnect(const std::string& socket_id) const {
  return broadcast(socket_id, "disconnect", boost::json::object{});
}

void endpoint::bind(std::function<pubsub_actor()> find_pubsub,
                    std::function<coordinator_actor()> find_coordinator) {
  std::lock_guard lock(mutex_);
  find_pubsub_ = std::move(find_pubsub);
  find_coordinator_ = std::move(find_coordinator);
}

void endpoint::unbind() {
  std::lock_guard lock(mutex_);
  find_pubsub_ = nullptr;
  find_coordinator_ = nullptr;
}

}  // namespace beryl::app
