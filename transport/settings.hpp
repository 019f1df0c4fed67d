#pragma once
// Transport configuration with its defaults (see app/config for the command-line options).
#include "core/admission.hpp"
#include "core/handshake.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace beryl {

enum class slow_consumer_policy {
  disconnect,  // close with 1013 once the outbound queue is full (the client reconnects)
  drop,        // drop frames for that connection while its queue is full
};

struct transport_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4000;  // 0 picks a free port
  std::string socket_path = "/socket/websocket";
  std::chrono::milliseconds idle_timeout{60000};  // any inbound data resets it
  std::size_t max_frame_size = 1 << 20;           // larger messages close the socket with 1009
  std::size_t outbound_queue_limit = 1024;        // frames queued per connection
  // Bytes queued for one connection (pongs, replies, broadcasts, the write in progress); over it
  // the slow-consumer policy applies. At least a maximal message and its reply fit.
  std::size_t outbound_buffer_limit = 4 << 20;
  // Bytes a connection has sent that are not handled yet (messages on their way through the
  // actors, an unfinished message); over it the connection is not read until they are handled.
  std::size_t inbound_buffer_limit = 2 << 20;
  slow_consumer_policy slow_consumer = slow_consumer_policy::disconnect;
  // Real-time clients (WebSocket connections and long-poll sessions): beyond these an upgrade
  // gets 503 (in all) or 429 (from one address). 0: no cap; the server derives `max_connections`
  // from the open-files limit (app/runtime/config.cpp).
  connection_limits max_connections;
  handshake::origin_policy check_origin;  // by default the request's own host only
  // PEM files: with both, the port serves https and wss beside http and ws (transport/tls.hpp).
  std::string tls_cert;
  std::string tls_key;
  std::size_t max_http_body = 8 << 20;
  bool longpoll = false;  // off by default, as in Phoenix
  std::string longpoll_path = "/socket/longpoll";
  std::chrono::milliseconds longpoll_window{10000};  // how long a GET waits for messages
};

}  // namespace beryl
