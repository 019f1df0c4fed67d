#pragma once
// One decoded Phoenix message (docs/protocol.md §2.1). Refs are opaque strings; a missing ref is
// std::nullopt and goes back to the client as null.
#include "core/payload.hpp"

#include <memory>
#include <optional>
#include <string>

namespace beryl {

using ref_t = std::optional<std::string>;

struct message {
  ref_t join_ref;
  ref_t ref;
  std::string topic;
  std::string event;
  payload body;
  // Keeps the bytes this message came from charged to its connection's inbound budget
  // (--inbound-buffer-limit) until the last copy of the message is dropped, that is, until the
  // actors have handled it. Empty for messages the server makes itself.
  std::shared_ptr<const void> lease;
};

// Control event names of the protocol.
namespace events {
inline constexpr const char* join = "phx_join";
inline constexpr const char* leave = "phx_leave";
inline constexpr const char* reply = "phx_reply";
inline constexpr const char* close = "phx_close";
inline constexpr const char* error = "phx_error";
inline constexpr const char* heartbeat = "heartbeat";
inline constexpr const char* heartbeat_topic = "phoenix";
}  // namespace events

}  // namespace beryl
