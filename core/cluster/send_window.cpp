#include "core/cluster/send_window.hpp"

#include <algorithm>

namespace beryl::cluster {

bool send_window::try_send(std::size_t bytes) {
  if (in_flight() + bytes > limit_) return false;
  sent_ += bytes;
  return true;
}

void send_window::acknowledged(std::uint64_t received_total) {
  acknowledged_ = std::max(acknowledged_, std::min(received_total, sent_));
}

}  // namespace beryl::cluster
