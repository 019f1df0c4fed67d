#pragma once
// WebSocket close codes (RFC 6455 §7.4) that the server sends; long-poll maps them to its own
// statuses. Pure, beside the frame codec that writes them.
#include <cstdint>

namespace beryl {

// The codes the server uses (docs/protocol.md §7). Never 1000: phoenix.js must reconnect.
namespace close_code {
inline constexpr std::uint16_t going_away = 1001;  // idle timeout, disconnect, shutdown
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t invalid_payload = 1007;  // undecodable message
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;  // the listener crashed; a new one starts
inline constexpr std::uint16_t try_again_later = 1013;  // slow consumer disconnected

// Whether a peer may send `code` in a close frame (RFC 6455 §7.4; 1012-1014 as IANA registered
// them): 1000-1003, 1007-1014 and 3000-4999. 1004-1006 and 1015 are reserved, never sent.
constexpr bool valid_from_peer(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}
}  // namespace close_code

}  // namespace beryl
