#include "ws_client.hpp"

#include "ws_codec.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <random>

namespace bench {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Bounds the TCP connect, then the opening handshake, then a closing handshake we started; an
// open connection has no timeout.
constexpr auto handshake_timeout = std::chrono::seconds(10);
constexpr std::size_t max_response_header = 8 * 1024;
constexpr std::size_t initial_buffer = 16 * 1024;
// A buffer grown for a big message is given back once it is handled: thousands of idle
// connections must not each keep their largest message's worth of memory.
constexpr std::size_t max_idle_buffer = 64 * 1024;
// As Beast's default read_message_max: a corrupt length must not allocate gigabytes.
constexpr std::uint64_t max_message = 16 * 1024 * 1024;

constexpr std::uint16_t close_normal = 1000;
constexpr std::uint16_t close_protocol_error = 1002;
constexpr std::uint16_t close_too_big = 1009;

// Masking keys need no cryptographic strength here: xorshift64, seeded once per process and
// per connection.
class xorshift64 {
 public:
  explicit xorshift64(std::uint64_t seed) : state_(mix(seed) | 1) {}  // a zero state stays zero

  std::uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  // splitmix64's finalizer: seeds differing in a few bits (addresses) start far apart.
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  std::uint64_t state_;
};

std::uint64_t process_seed() {
  static const std::uint64_t seed = [] {
    std::random_device device;
    return static_cast<std::uint64_t>(device()) << 32 | device();
  }();
  return seed;
}

// The process's event loop runs on one thread.
std::uint64_t frame_bytes_received = 0;

std::string timed_out() {
  return asio::error::make_error_code(asio::error::timed_out).message();
}

}  // namespace

// RFC 6455 on a plain socket or TLS. Beast cost the presence runs a third of the generator's CPU:
// UTF-8 validation of every text frame, and a buffer per connection as big as its largest message.
// permessage-deflate is not offered, and Sec-WebSocket-Accept is not checked: a 101 from our own
// server is enough for a benchmark client, and the check would need SHA-1.
class ws_client::impl : public std::enable_shared_from_this<impl> {
 public:
  impl(asio::io_context& io, ws_handler& handler)
      : socket_(io),
        timer_(io),
        handler_(&handler),
        prng_(process_seed() ^ reinterpret_cast<std::uintptr_t>(this)),
        buffer_(new char[initial_buffer]) {}

  void detach() { handler_ = nullptr; }

  void connect(const ws_target& target) {
    if (target.source_ports) {
      const error_code ec = bind_source_port(target);
      if (ec) {
        // Reported from the event loop, never from inside connect(): the caller may react by
        // connecting again, and must not recurse.
        asio::post(socket_.get_executor(),
                   [self = shared_from_this(), ec] { self->fail("bind: " + ec.message()); });
        return;
      }
    }
    request_ = ws_handshake_request(target.host, target.target, random_key());
    if (target.tls) tls_.emplace(socket_, *target.tls);
    arm_timer("connect");
    socket_.async_connect(target.endpoint,
                          [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
  }

  void send(std::string_view text) {
    if (state_ == state::open) queue_frame(ws_opcode::text, text);
  }

  void close() {
    if (state_ != state::open) return;
    state_ = state::closing;
    arm_timer("close failed");
    queue_frame(ws_opcode::close, ws_close_payload(close_normal));
  }

  // Drops the TCP connection without a closing handshake: its owner is gone.
  void abort() { fail("aborted"); }

 private:
  enum class state { connecting, open, closing, draining, closed };

  // Binds to the next free port of our range on the server's loopback address. SO_REUSEADDR
  // lets a port whose previous connection lingers in TIME_WAIT be taken again.
  error_code bind_source_port(const ws_target& target) {
    error_code ec;
    socket_.open(target.endpoint.protocol(), ec);
    if (ec) return ec;
    socket_.set_option(asio::socket_base::reuse_address(true), ec);
    for (std::uint32_t attempt = 0; attempt < target.source_ports->size(); ++attempt) {
      socket_.bind({target.endpoint.address(), target.source_ports->next()}, ec);
      if (ec != asio::error::address_in_use) return ec;
    }
    return ec;
  }

  std::array<std::uint8_t, 16> random_key() {
    std::array<std::uint8_t, 16> key{};
    for (auto& byte : key) byte = static_cast<std::uint8_t>(prng_.next());
    return key;
  }

  // `stage` names what timed out in the reason.
  void arm_timer(const char* stage) {
    timeout_stage_ = stage;
    timer_.expires_after(handshake_timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      // A wait that completed before the timer was re-armed or cancelled is stale.
      if (ec || self->timer_.expiry() > std::chrono::steady_clock::now()) return;
      if (self->state_ == state::connecting || self->state_ == state::closing)
        self->fail(std::string(self->timeout_stage_) + ": " + timed_out());
    });
  }

  void on_connect(error_code ec) {
    if (state_ == state::closed) return;
    if (ec) return fail("connect: " + ec.message());
    error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    arm_timer("handshake");
    if (!tls_) return send_request();
    tls_->async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](error_code ec) {
                            if (self->state_ == state::closed) return;
                            if (ec) return self->fail("tls handshake: " + ec.message());
                            self->send_request();
                          });
  }

  void send_request() {
    with_stream([this](auto& stream) {
      asio::async_write(
          stream, asio::buffer(request_),
          [self = shared_from_this()](error_code ec, std::size_t) { self->on_request_sent(ec); });
    });
  }

  // Calls `f` with the TCP socket, or the TLS stream over it.
  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(socket_);
  }

  void on_request_sent(error_code ec) {
    if (state_ == state::closed) return;
    if (ec) return fail("handshake: " + ec.message());
    request_ = std::string();
    read_response();
  }

  void read_response() {
    with_stream([this](auto& stream) {
      stream.async_read_some(asio::buffer(buffer_.get() + end_, capacity_ - end_),
                             [self = shared_from_this()](error_code ec, std::size_t size) {
                               self->on_response(ec, size);
                             });
    });
  }

  void on_response(error_code ec, std::size_t size) {
    if (state_ == state::closed) return;
    if (ec) return fail("handshake: " + ec.message());
    const std::size_t searched = end_ < 3 ? 0 : end_ - 3;
    end_ += size;
    const std::string_view received(buffer_.get(), end_);
    const auto header_end = received.find("\r\n\r\n", searched);
    if (header_end == std::string_view::npos && end_ < max_response_header) return read_response();
    if (header_end == std::string_view::npos || header_end + 4 > max_response_header)
      return fail("handshake: response header over 8 KB");
    const auto status_line = received.substr(0, received.find("\r\n"));
    if (!is_ws_switching_protocols(status_line))
      return fail("handshake: " + std::string(status_line));
    begin_ = header_end + 4;  // what follows are frames
    timer_.cancel();
    state_ = state::open;
    if (handler_) handler_->on_open();
    handle_frames();
  }

  void read() {
    with_stream([this](auto& stream) {
      stream.async_read_some(asio::buffer(buffer_.get() + end_, capacity_ - end_),
                             [self = shared_from_this()](error_code ec, std::size_t size) {
                               self->on_read(ec, size);
                             });
    });
  }

  void on_read(error_code ec, std::size_t size) {
    if (state_ == state::closed) return;
    if (state_ == state::draining) {
      // The server's end of file completes the teardown; what comes before it is discarded.
      if (ec) return close_socket();
      return read();
    }
    if (ec == asio::error::eof && state_ == state::closing) return fail("closed");
    if (ec) return fail("read: " + ec.message());
    frame_bytes_received += size;
    end_ += size;
    handle_frames();
  }

  // Handles every whole frame received, then reads on.
  void handle_frames() {
    std::size_t need = 0;  // the bytes the next frame needs in one piece
    while (state_ == state::open || state_ == state::closing) {
      const std::string_view held(buffer_.get() + begin_, end_ - begin_);
      ws_frame_header header;
      const ws_decode decoded = decode_ws_header(held, header);
      if (decoded == ws_decode::incomplete) {
        need = held.size();
        break;
      }
      if (decoded == ws_decode::protocol_error) {
        protocol_error(close_protocol_error, "protocol error");
      } else if (header.payload_size > max_message) {
        protocol_error(close_too_big, "message too big");
      } else if (skips(header, held)) {
        // What of the payload has arrived is dropped here, the rest from the socket.
        const std::size_t here =
            std::min<std::size_t>(held.size() - header.header_size, header.payload_size);
        begin_ += header.header_size + here;
        discard_ = header.payload_size - here;
        asked_ = no_message;
        if (discard_ > 0) break;
      } else if (held.size() < header.header_size + header.payload_size) {
        need = header.header_size + header.payload_size;
        break;
      } else {
        begin_ += header.header_size + header.payload_size;
        asked_ = no_message;
        on_frame(header, held.substr(header.header_size, header.payload_size));
      }
    }
    if (state_ == state::closed) return;
    if (state_ == state::draining) begin_ = end_;
    compact(need);
    if (discard_ > 0) return discard();
    read();
  }

  // Asks the handler once per message whether its start is enough (ws_handler::on_text_start).
  bool skips(const ws_frame_header& header, std::string_view held) {
    if (tls_ || header.opcode != ws_opcode::text || !header.fin || fragmented_ || !handler_ ||
        header.payload_size <= ws_peek_size || held.size() < header.header_size + ws_peek_size ||
        asked_ == begin_)
      return false;
    asked_ = begin_;  // a message the handler wants whole is not asked about again
    return handler_->on_text_start(held.substr(header.header_size, ws_peek_size));
  }

  // Drops the rest of a skipped message in the kernel, then reads on.
  void discard() {
    while (discard_ > 0) {
      const ssize_t n =
          ::recv(socket_.native_handle(), nullptr, discard_, MSG_TRUNC | MSG_DONTWAIT);
      if (n > 0) {
        discard_ -= static_cast<std::uint64_t>(n);
        frame_bytes_received += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n == 0) return on_read(asio::error::eof, 0);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return on_read(error_code(errno, boost::system::system_category()), 0);
      socket_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](error_code ec) {
        if (self->state_ == state::closed) return;
        if (ec) return self->on_read(ec, 0);
        self->discard();
      });
      return;
    }
    read();
  }

  void on_frame(const ws_frame_header& header, std::string_view payload) {
    switch (header.opcode) {
      case ws_opcode::text:
      case ws_opcode::binary:
        if (fragmented_) return protocol_error(close_protocol_error, "protocol error");
        if (header.fin) return deliver(payload);
        fragmented_ = true;
        message_.assign(payload);
        return;
      case ws_opcode::continuation:
        if (!fragmented_) return protocol_error(close_protocol_error, "protocol error");
        if (message_.size() + payload.size() > max_message)
          return protocol_error(close_too_big, "message too big");
        message_.append(payload);
        if (!header.fin) return;
        fragmented_ = false;
        deliver(message_);
        message_.clear();
        if (message_.capacity() > max_idle_buffer) message_.shrink_to_fit();
        return;
      case ws_opcode::ping:
        if (state_ == state::open) queue_frame(ws_opcode::pong, payload);
        return;
      case ws_opcode::pong:
        return;
      case ws_opcode::close:
        return on_close_frame(payload);
    }
  }

  void deliver(std::string_view text) {
    if (handler_) handler_->on_text(text);
  }

  void on_close_frame(std::string_view payload) {
    if (payload.size() == 1) return protocol_error(close_protocol_error, "protocol error");
    if (state_ == state::closing) {
      teardown();
      return finish("closed");
    }
    unsigned code = 0;  // none given
    if (!payload.empty())
      code = static_cast<unsigned char>(payload[0]) * 256u + static_cast<unsigned char>(payload[1]);
    queue_frame(ws_opcode::close, payload.substr(0, 2));
    teardown();
    finish("closed by server, code " + std::to_string(code));
  }

  void protocol_error(std::uint16_t code, const std::string& what) {
    if (state_ == state::open) queue_frame(ws_opcode::close, ws_close_payload(code));
    teardown();
    finish("read: " + what);
  }

  // The closing handshake is over: as Beast did, wait for the server to close TCP first, so the
  // TIME_WAIT stays on its side and our source port can be reused at once.
  void teardown() {
    state_ = state::draining;
    timer_.cancel();
  }

  // Moves a partial frame to the front. A frame larger than the buffer gets a buffer that holds
  // it whole; a grown buffer is given back when the next frame fits the initial size.
  void compact(std::size_t need) {
    const std::size_t held = end_ - begin_;
    std::size_t capacity = capacity_;
    if (need > capacity_) {
      capacity = need;
    } else if (capacity_ > max_idle_buffer && need <= initial_buffer) {
      capacity = initial_buffer;
    }
    if (capacity != capacity_) {
      std::unique_ptr<char[]> buffer(new char[capacity]);
      std::memcpy(buffer.get(), buffer_.get() + begin_, held);
      buffer_ = std::move(buffer);
      capacity_ = capacity;
    } else if (begin_ > 0) {
      std::memmove(buffer_.get(), buffer_.get() + begin_, held);
    }
    if (asked_ != no_message) asked_ = 0;  // it was the first held message, now at the front
    begin_ = 0;
    end_ = held;
  }

  void queue_frame(ws_opcode opcode, std::string_view payload) {
    const auto mask_key = static_cast<std::uint32_t>(prng_.next() >> 32);
    queue_.push_back(encode_ws_frame(opcode, payload, mask_key));
    if (queue_.size() == 1) write_front();
  }

  void write_front() {
    with_stream([this](auto& stream) {
      asio::async_write(
          stream, asio::buffer(queue_.front()),
          [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
    });
  }

  void on_write(error_code ec) {
    if (state_ == state::closed) return;
    if (ec) return fail("write: " + ec.message());
    queue_.pop_front();
    if (!queue_.empty()) write_front();
  }

  // Pending operations complete with operation_aborted, and return at once.
  void close_socket() {
    state_ = state::closed;
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

  // Reports `reason` unless a reason was reported already.
  void fail(const std::string& reason) {
    close_socket();
    finish(reason);
  }

  void finish(const std::string& reason) {
    if (finished_) return;
    finished_ = true;
    if (handler_) handler_->on_closed(reason);
  }

  asio::ip::tcp::socket socket_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;  // over socket_, for wss://
  asio::steady_timer timer_;
  ws_handler* handler_;
  xorshift64 prng_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = initial_buffer;
  std::size_t begin_ = 0;  // received bytes not handled yet are [begin_, end_)
  std::size_t end_ = 0;
  static constexpr std::size_t no_message = static_cast<std::size_t>(-1);
  std::size_t asked_ = no_message;  // where the message whose start was offered begins
  std::uint64_t discard_ = 0;       // bytes of a skipped message still in the socket
  std::string message_;             // a fragmented message so far
  std::deque<std::string> queue_;   // encoded frames; the front one is being written
  std::string request_;
  const char* timeout_stage_ = "";
  state state_ = state::connecting;
  bool fragmented_ = false;
  bool finished_ = false;
};

std::uint64_t ws_bytes_received() {
  return frame_bytes_received;
}

ws_client::ws_client(asio::io_context& io, ws_handler& handler)
    : impl_(std::make_shared<impl>(io, handler)) {}

ws_client::~ws_client() {
  impl_->detach();
  impl_->abort();
}

void ws_client::connect(const ws_target& target) {
  impl_->connect(target);
}
void ws_client::send(std::string text) {
  impl_->send(text);
}
void ws_client::close() {
  impl_->close();
}

}  // namespace bench
