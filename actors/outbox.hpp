#pragma once
// Where a connection's outbound frames go. The transport implements it; any actor (socket,
// channel, pubsub shard) may call it from any thread.
#include "actors/frame.hpp"

#include <cstdint>
#include <string>

namespace beryl {

// WebSocket close codes the server uses (protocol.md §7). Never 1000: phoenix.js must reconnect.
namespace close_code {
inline constexpr std::uint16_t going_away = 1001;  // idle timeout, disconnect, shutdown
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t invalid_payload = 1007;  // undecodable message
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;  // the server tree restarted
inline constexpr std::uint16_t try_again_later = 1013;  // slow consumer disconnected
}  // namespace close_code

class outbox {
 public:
  virtual ~outbox() = default;
  // Queue a frame; frames from one caller reach the wire in call order. Frames queued together
  // leave in one write: broadcasts use this.
  virtual void send(frame f) = 0;
  // A frame for this client alone that it is waiting for (a reply, a push): a transport may
  // write it from the caller's thread at once when nothing is queued. Same ordering as send().
  virtual void send_now(frame f) { send(std::move(f)); }
  // Close the connection with `code` after the frames already queued.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

}  // namespace beryl
