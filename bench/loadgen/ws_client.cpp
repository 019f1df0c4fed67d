#include "ws_client.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <deque>

namespace bench {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;

class ws_client::impl : public std::enable_shared_from_this<impl> {
 public:
  impl(asio::io_context& io, ws_handler& handler) : ws_(io), handler_(&handler) {
    websocket::permessage_deflate no_deflate;  // measure the protocol, not zlib
    no_deflate.client_enable = false;
    ws_.set_option(no_deflate);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.secure_prng(false);  // masking keys need no cryptographic strength here
    ws_.auto_fragment(false);
    ws_.text(true);
  }

  void detach() { handler_ = nullptr; }

  void connect(const ws_target& target) {
    host_ = target.host;
    path_ = target.target;
    auto& tcp = beast::get_lowest_layer(ws_);
    if (target.source_ports) {
      const beast::error_code ec = bind_source_port(target);
      if (ec) {
        // Reported from the event loop, never from inside connect(): the caller may react by
        // connecting again, and must not recurse.
        asio::post(ws_.get_executor(),
                   [self = shared_from_this(), ec] { self->finish("bind: " + ec.message()); });
        return;
      }
    }
    tcp.expires_after(std::chrono::seconds(10));
    tcp.async_connect(target.endpoint,
                      [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
  }

  void send(std::string text) {
    if (!open_) return;
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) write_front();
  }

  void close() {
    if (!open_ || closing_) return;
    closing_ = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code ec) {
                      // Success means the server answered and closed; the read loop reports it.
                      if (ec) self->finish("close failed: " + ec.message());
                    });
  }

  // Drops the TCP connection without a closing handshake: its owner is gone.
  void abort() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    finish("aborted");
  }

 private:
  // Binds to the next free port of our range on the server's loopback address. SO_REUSEADDR
  // lets a port whose previous connection lingers in TIME_WAIT be taken again.
  beast::error_code bind_source_port(const ws_target& target) {
    auto& socket = beast::get_lowest_layer(ws_).socket();
    beast::error_code ec;
    socket.open(target.endpoint.protocol(), ec);
    if (ec) return ec;
    socket.set_option(asio::socket_base::reuse_address(true), ec);
    for (std::uint32_t attempt = 0; attempt < target.source_ports->size(); ++attempt) {
      socket.bind({target.endpoint.address(), target.source_ports->next()}, ec);
      if (ec != asio::error::address_in_use) return ec;
    }
    return ec;
  }

  void on_connect(beast::error_code ec) {
    if (ec) return finish("connect: " + ec.message());
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.expires_never();  // the websocket timeout option takes over
    tcp.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    ws_.async_handshake(host_, path_, [self = shared_from_this()](beast::error_code ec) {
      self->on_handshake(ec);
    });
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return finish("handshake: " + ec.message());
    open_ = true;
    if (handler_) handler_->on_open();
    read();
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == websocket::error::closed) {
      const auto& reason = ws_.reason();
      return finish(closing_ ? "closed" : "closed by server, code " + std::to_string(reason.code));
    }
    if (ec) return finish("read: " + ec.message());
    const auto data = buffer_.cdata();
    if (handler_) handler_->on_text({static_cast<const char*>(data.data()), data.size()});
    buffer_.consume(buffer_.size());
    if (!finished_) read();
  }

  void write_front() {
    ws_.async_write(
        asio::buffer(queue_.front()),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (ec) return finish("write: " + ec.message());
    queue_.pop_front();
    if (open_ && !queue_.empty()) write_front();
  }

  void finish(const std::string& reason) {
    open_ = false;  // the queue stays: a write in flight still points into it
    if (finished_) return;
    finished_ = true;
    if (handler_) handler_->on_closed(reason);
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::string host_;
  std::string path_;
  ws_handler* handler_;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

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
  impl_->send(std::move(text));
}
void ws_client::close() {
  impl_->close();
}

}  // namespace bench
