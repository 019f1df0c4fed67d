#pragma once
// Transport-internal: what ties a received message to its connection's inbound budget
// (--inbound-buffer-limit). The message carries the lease (message::lease); when the actors drop
// the message's last copy, the bytes are given back to the connection, if it still exists.
#include <cstddef>
#include <memory>

namespace beryl {

// `Connection` has release_inbound(std::size_t), callable from any thread.
template <class Connection>
std::shared_ptr<const void> make_inbound_lease(const std::shared_ptr<Connection>& connection,
                                               std::size_t bytes) {
  std::weak_ptr<Connection> weak = connection;
  return {static_cast<const void*>(connection.get()), [weak, bytes](const void*) {
            if (auto c = weak.lock()) c->release_inbound(bytes);
          }};
}

}  // namespace beryl
