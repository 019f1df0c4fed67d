#include "app/runtime/endpoint.hpp"

#include "actors/atoms.hpp"
#include "actors/message_types.hpp"

#include <caf/send.hpp>

namespace beryl::app {

endpoint::targets endpoint::current() const {
  std::lock_guard lock(mutex_);
  return find_ ? find_() : targets{};
}

bool endpoint::broadcast(std::string topic, std::string event, payload body) const {
  auto pubsub = current().pubsub;
  if (!pubsub) return false;
  caf::anon_send(pubsub, atoms::broadcast::value, std::move(topic), std::move(event),
                 std::move(body));
  return true;
}

bool endpoint::disconnect(const std::string& socket_id) const {
  auto coordinator = current().coordinator;
  if (!coordinator) return false;
  caf::anon_send(coordinator, atoms::disconnect::value, socket_id);
  return true;
}

void endpoint::bind(std::function<targets()> find) {
  std::lock_guard lock(mutex_);
  find_ = std::move(find);
}

void endpoint::unbind() {
  std::lock_guard lock(mutex_);
  find_ = nullptr;
}

}  // namespace beryl::app
