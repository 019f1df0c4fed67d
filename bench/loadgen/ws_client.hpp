// One client WebSocket connection: a lean RFC 6455 client on a Boost.Asio TCP socket, or TLS over
// one (ws_client.cpp; the framing is in ws_codec). No UTF-8 validation, no permessage-deflate.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "source_ports.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace bench {

// Receives the events of one connection, on the io_context thread.
class ws_handler {
 public:
  virtual void on_open() = 0;
  virtual void on_text(std::string_view text) = 0;
  // A text message longer than ws_peek_size: `start` is its beginning. Returning true means
  // that was all the handler needed: the rest is dropped by the kernel unread (recv with
  // MSG_TRUNC, no copy) and on_text is not called. (Not over TLS: every byte is decrypted.) Big
  // presence frames that a client only counts would otherwise cost the generator more than the
  // server.
  virtual bool on_text_start(std::string_view start) {
    (void)start;
    return false;
  }
  // Called once, when the connection failed, was closed by the peer or by close().
  virtual void on_closed(const std::string& reason) = 0;

 protected:
  ~ws_handler() = default;
};

struct ws_target {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string host;    // Host header, e.g. "127.0.0.1:4000"
  std::string target;  // request target, e.g. "/socket/websocket?vsn=2.0.0"
  std::shared_ptr<source_port_range> source_ports;  // null: the kernel picks the local port
  std::shared_ptr<boost::asio::ssl::context> tls;   // wss://; null: ws://
};

inline constexpr std::size_t ws_peek_size = 256;

// Bytes of WebSocket frames this process's clients received so far (after the handshakes).
std::uint64_t ws_bytes_received();

class ws_client {
 public:
  ws_client(boost::asio::io_context& io, ws_handler& handler);
  // Detaches the handler (no callback after this) and drops the socket.
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  void connect(const ws_target& target);
  // Queues one text message; messages are written in order, one write in flight at a time.
  void send(std::string text);
  // Starts the closing handshake; on_closed follows when the server has closed.
  void close();

 private:
  class impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace bench
