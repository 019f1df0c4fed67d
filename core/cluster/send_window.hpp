#pragma once
// What one peer node has been sent and has acknowledged, in bytes (docs/cluster.md §4). Peers
// acknowledge with every heartbeat the bytes they have received from this node, so a window
// bounds what CAF's middleman may buffer for a peer that is slow or hung: a message that would
// leave more than `limit` bytes unacknowledged is not sent.
#include <cstddef>
#include <cstdint>

namespace beryl::cluster {

class send_window {
 public:
  explicit send_window(std::uint64_t limit) : limit_(limit) {}

  // True when `bytes` fit, which then count as sent; false when they would overflow the window.
  bool try_send(std::size_t bytes);
  // The peer's count of bytes it has received from us. Counts never go back, and a peer cannot
  // acknowledge more than it was sent.
  void acknowledged(std::uint64_t received_total);
  std::uint64_t in_flight() const { return sent_ - acknowledged_; }

 private:
  std::uint64_t limit_;
  std::uint64_t sent_ = 0;
  std::uint64_t acknowledged_ = 0;
};

}  // namespace beryl::cluster
