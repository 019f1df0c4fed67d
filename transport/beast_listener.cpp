// The only translation unit that compiles Beast: the accept loop, HTTP sessions (plain or TLS) and
// the WebSocket upgrade handshake. After the upgrade a ws_connection owns the socket.
#include "transport/beast_listener.hpp"
#include "actors/stop_reason.hpp"
#include "core/handshake.hpp"
#include "core/http.hpp"
#include "core/json_serializer.hpp"
#include "transport/admission_gate.hpp"
#include "transport/io_runtime_impl.hpp"
#include "transport/longpoll.hpp"
#include "transport/peer.hpp"
#include "transport/tls.hpp"
#include "transport/ws_connection.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <caf/all.hpp>

#include <atomic>
#include <future>
#include <unordered_map>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace beryl {
namespace {

constexpr auto http_read_timeout = std::chrono::seconds(30);
constexpr std::size_t http_header_limit = 16 * 1024;
constexpr auto accept_retry_delay = std::chrono::milliseconds(50);
constexpr auto accept_warning_interval = std::chrono::seconds(10);
constexpr auto cap_warning_interval = std::chrono::seconds(10);

string_pairs parse_query(std::string_view target) {
  string_pairs out;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return out;
  for (auto param : url->params()) out.emplace_back(param.key, param.value);
  return out;
}

plain_socket& tcp_of(plain_socket& stream) {
  return stream;
}
plain_socket& tcp_of(tls_stream& stream) {
  return stream.next_layer();
}

// What the listener closes when it stops: an HTTP session, plain or TLS, or a connection whose
// first bytes have not told which yet.
class http_session_base {
 public:
  virtual ~http_session_base() = default;
  virtual void close() = 0;
};

class beast_listener_impl final : public beast_listener,
                                  public ws_connection::registry,
                                  public std::enable_shared_from_this<beast_listener_impl> {
 public:
  beast_listener_impl(caf::actor_system& sys, io_runtime& io, transport_settings settings,
                      server_hooks hooks, std::shared_ptr<const socket_deps> deps)
      : sys_(sys),
        io_(io.internals()),
        settings_(std::move(settings)),
        hooks_(std::move(hooks)),
        deps_(std::move(deps)),
        gate_(std::make_shared<admission_gate>(settings_.max_connections)),
        executor_(io_.listener_executor()),
        acceptor_(executor_),
        sweeper_(executor_),
        retry_(executor_) {
    if (!settings_.tls_cert.empty())
      tls_context_ = make_tls_context(settings_.tls_cert, settings_.tls_key);
    if (settings_.longpoll)
      longpoll_ = std::make_unique<longpoll_endpoint>(
          sys_, settings_, hooks_.on_connect, deps_,
          [this](std::string_view peer) { return admit(peer); });
  }

  void open() {
    tcp::endpoint endpoint{asio::ip::make_address(settings_.host), settings_.port};
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    if (tls_context_)
      spdlog::info("listening on http://{0}:{1} and https://{0}:{1} (websocket at {2})",
                   settings_.host, port_, settings_.socket_path);
    else
      spdlog::info("listening on http://{}:{} (websocket at {})", settings_.host, port_,
                   settings_.socket_path);
    asio::post(executor_, [self = shared_from_this()] {
      self->accept();
      self->sweep();
    });
  }

  std::uint16_t port() const override { return port_; }
  std::size_t connections() const override {
    std::lock_guard lock(mutex_);
    return connection_count_;
  }
  std::uint64_t accepted() const override { return accepted_; }

  std::size_t drain(std::size_t batch) override {
    if (!draining_.exchange(true))
      spdlog::info("listener on port {} draining: new connections get 503", port_);
    std::size_t closed = 0;
    std::size_t left = 0;
    for (auto& c : live_connections()) {
      if (c->closing()) continue;
      if (closed < batch) {
        c->shut_down(make_error(stop_code::shutdown), close_code::service_restart);
        ++closed;
      } else {
        ++left;
      }
    }
    longpoll_endpoint::drained sessions;
    if (longpoll_) {
      sessions = longpoll_->drain(batch - closed, make_error(stop_code::shutdown));
      if (sessions.ended > 0)
        spdlog::info("listener on port {} draining: ended {} long-poll session(s), {} left", port_,
                     sessions.ended, sessions.left);
    }
    if (closed > 0)
      spdlog::info("listener on port {} draining: closed {} connection(s) with {}, {} left", port_,
                   closed, close_code::service_restart, left);
    return left + sessions.left;
  }

  // Waits until the acceptor is closed, so that a restarted listener can bind the same port.
  void stop(const caf::error& reason, std::uint16_t code) override {
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::post(executor_, [self = shared_from_this(), reason, code, closed] {
      self->stop_now(reason, code);
      closed->set_value();
    });
    if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
      spdlog::warn("listener on port {}: the network threads did not close the acceptor in 2 s",
                   port_);
  }

  const transport_settings& settings() const { return settings_; }
  const server_hooks& hooks() const { return hooks_; }
  caf::actor_system& system() { return sys_; }
  const std::shared_ptr<const socket_deps>& deps() const { return deps_; }
  io_runtime::impl& io() { return io_; }
  longpoll_endpoint* longpoll() { return longpoll_.get(); }
  asio::ssl::context& tls_context() { return *tls_context_; }

  // A place under the connection caps for a client at `peer`; a refusal is logged at most every
  // 10 s, with how many were refused since.
  admission_gate::outcome admit(std::string_view peer) {
    if (draining_) return {admission::verdict::over_total, {}};  // 503: go elsewhere
    auto outcome = gate_->admit(peer_address(peer));
    if (outcome.ticket) return outcome;
    std::lock_guard lock(mutex_);
    ++refused_;
    auto now = std::chrono::steady_clock::now();
    if (now - last_cap_warning_ >= cap_warning_interval) {
      spdlog::warn("connection cap reached ({} open): refused {} upgrade(s) with 503/429",
                   gate_->admitted(), refused_);
      refused_ = 0;
      last_cap_warning_ = now;
    }
    return outcome;
  }

  void add(const std::shared_ptr<ws_connection>& c) {
    std::lock_guard lock(mutex_);
    links_of(*c).next = first_connection_;
    if (first_connection_) links_of(*first_connection_).prev = c.get();
    first_connection_ = c.get();
    ++connection_count_;
  }
  // Twice for most connections (when it finishes, when it is destroyed): the second finds it gone.
  void remove(ws_connection* c) override {
    std::lock_guard lock(mutex_);
    auto& links = links_of(*c);
    if (!links.prev && first_connection_ != c) return;
    if (links.prev)
      links_of(*links.prev).next = links.next;
    else
      first_connection_ = links.next;
    if (links.next) links_of(*links.next).prev = links.prev;
    links = {};
    --connection_count_;
  }
  void add_session(const std::shared_ptr<http_session_base>& s) {
    std::lock_guard lock(mutex_);
    sessions_.emplace(s.get(), s);
  }
  void remove_session(http_session_base* s) {
    std::lock_guard lock(mutex_);
    sessions_.erase(s);
  }
  bool stopped() const { return stopped_; }

 private:
  void accept();
  void sweep();

  // At the open-files cap accept fails every retry: say so once, then every 10 s, then when it
  // works again, instead of twenty log lines a second.
  void note_accept_failure(const boost::system::error_code& ec) {
    auto now = std::chrono::steady_clock::now();
    if (accept_failures_++ == 0) {
      spdlog::warn("accept failed: {}; connections wait in the backlog until it works again",
                   ec.message());
      last_accept_warning_ = now;
    } else if (now - last_accept_warning_ >= accept_warning_interval) {
      spdlog::warn("accept still failing: {} ({} attempts so far)", ec.message(), accept_failures_);
      last_accept_warning_ = now;
    }
  }
  void note_accept_success() {
    if (accept_failures_ == 0) return;
    spdlog::info("accepting again after {} failed attempts", accept_failures_);
    accept_failures_ = 0;
  }
  void stop_now(const caf::error& reason, std::uint16_t code);

  // The connections not being destroyed (one whose destructor waits for the mutex is skipped).
  std::vector<std::shared_ptr<ws_connection>> live_connections() {
    std::vector<std::shared_ptr<ws_connection>> out;
    std::lock_guard lock(mutex_);
    out.reserve(connection_count_);
    for (auto* c = first_connection_; c; c = links_of(*c).next)
      if (auto strong = c->weak_from_this().lock()) out.push_back(std::move(strong));
    return out;
  }
  template <class T>
  std::vector<std::shared_ptr<T>> live(const std::unordered_map<T*, std::weak_ptr<T>>& table) {
    std::vector<std::shared_ptr<T>> out;
    std::lock_guard lock(mutex_);
    out.reserve(table.size());
    for (auto& [raw, weak] : table)
      if (auto strong = weak.lock()) out.push_back(std::move(strong));
    return out;
  }

  caf::actor_system& sys_;
  io_runtime::impl& io_;
  transport_settings settings_;
  server_hooks hooks_;
  std::shared_ptr<const socket_deps> deps_;
  std::shared_ptr<admission_gate> gate_;
  io_executor executor_;  // the first network thread's: accepting and sweeping run there
  tcp::acceptor acceptor_;
  asio::steady_timer sweeper_;
  asio::steady_timer retry_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::uint64_t accept_failures_ = 0;  // in a row; touched on executor_'s thread only
  std::chrono::steady_clock::time_point last_accept_warning_;
  mutable std::mutex mutex_;
  ws_connection* first_connection_ = nullptr;  // the list runs through the connections
  std::size_t connection_count_ = 0;
  std::unordered_map<http_session_base*, std::weak_ptr<http_session_base>> sessions_;
  std::uint64_t refused_ = 0;  // at a cap, since the last warning
  std::chrono::steady_clock::time_point last_cap_warning_;
  std::unique_ptr<longpoll_endpoint> longpoll_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // null: plain only
};

// One HTTP connection, over plain TCP or TLS (`Stream` is plain_socket or tls_stream), until it
// ends or is upgraded to a WebSocket. `early` holds bytes already read from it.
template <class Stream>
class http_session final : public http_session_base,
                           public std::enable_shared_from_this<http_session<Stream>> {
  static constexpr bool tls = std::is_same_v<Stream, tls_stream>;

 public:
  http_session(Stream stream, beast::flat_buffer early, std::shared_ptr<beast_listener_impl> server)
      : stream_(std::move(stream)),
        buffer_(std::move(early)),
        server_(std::move(server)),
        deadline_(stream_.get_executor()) {}

  ~http_session() override { server_->remove_session(this); }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (tls)
        self->handshake();
      else
        self->read();
    });
  }

  // Closes an idle keep-alive connection when the server stops. A request in flight is answered
  // first (its response ends the connection, see respond), so e.g. the crash-injection request
  // that restarts this listener still gets its reply.
  void close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->in_flight_) self->close_now();
    });
  }

 private:
  void close_now() {
    boost::system::error_code ignored;
    tcp_of(stream_).shutdown(plain_socket::shutdown_both, ignored);
    tcp_of(stream_).close(ignored);
  }

  // The socket closes when the deadline passes, whatever is in progress then (what
  // beast::tcp_stream's timeouts do, for both kinds of stream).
  void expire_after(std::chrono::steady_clock::duration limit) {
    deadline_.expires_after(limit);
    deadline_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      if (ec) return;  // cancelled or re-armed
      if (auto self = weak.lock()) self->close_now();
    });
  }

  void handshake() {
    expire_after(http_read_timeout);
    stream_.async_handshake(
        asio::ssl::stream_base::server, buffer_.data(),
        [self = this->shared_from_this()](boost::system::error_code ec, std::size_t used) {
          if (ec) return;  // not TLS after all, or it timed out
          self->buffer_.consume(used);
          self->read();
        });
  }

  // The response ends the connection: a TLS one says so first (close_notify), within the
  // deadline already running.
  void end_connection() {
    if constexpr (tls) {
      stream_.async_shutdown(
          [self = this->shared_from_this()](boost::system::error_code) { self->close_now(); });
    } else {
      boost::system::error_code ignored;
      stream_.shutdown(plain_socket::shutdown_send, ignored);
    }
  }

  // The header first, so that a request whose body length is ambiguous is refused before any of
  // its body is read as a body or as the next request.
  void read() {
    parser_.emplace();
    parser_->body_limit(server_->settings().max_http_body);
    parser_->header_limit(http_header_limit);
    expire_after(http_read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    const auto& req = parser_->get();
    std::optional<std::string> coding;
    for (auto [it, end] = req.equal_range(http::field::transfer_encoding); it != end; ++it) {
      coding = coding ? *coding + ", " : std::string();
      *coding += std::string(it->value());
    }
    if (!unambiguous_body_length(coding ? &*coding : nullptr,
                                 req.count(http::field::content_length) > 0, req.version() >= 11))
      return refuse_framing();
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return end_connection();
    if (ec) {
      if (ec == http::error::body_limit)
        respond(http_response{413, "text/plain", "request too large\n", {}}, false);
      // Beast's own framing checks (a Content-Length beside chunked, or twice): the same answer.
      if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length ||
          ec == http::error::multiple_content_length)
        refuse_framing();
      return;
    }
    auto request = parser_->release();
    in_flight_ = true;
    route(request);
  }

  // RFC 9112 §6.3: 400, and the connection closes: what follows cannot be told apart from a body.
  void refuse_framing() {
    in_flight_ = true;
    respond({400, "text/plain", "ambiguous request body length\n", {}}, false);
  }

  void route(const http::request<http::string_body>& req) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    bool keep_alive = req.keep_alive();
    const auto& settings = server_->settings();
    if (path == settings.socket_path) {
      if (req.method() != http::verb::get || !beast::websocket::is_upgrade(req)) {
        respond({400, "text/plain", "websocket upgrade expected\n", {}}, false);
        return;
      }
      upgrade(req);
      return;
    }
    if (path == "/healthz" && req.method() == http::verb::get) {
      const auto& ready = server_->hooks().ready;
      if (ready && !ready())
        respond({503, "text/plain", "starting\n", {}}, keep_alive);
      else
        respond({200, "text/plain", "ok\n", {}}, keep_alive);
      return;
    }
    auto r = plain_request(req, path);
    auto responder = [self = this->shared_from_this(), keep_alive](http_response res) {
      asio::post(self->stream_.get_executor(), [self, res = std::move(res), keep_alive]() mutable {
        self->respond(std::move(res), keep_alive);
      });
    };
    if (auto* longpoll = server_->longpoll(); longpoll && path == settings.longpoll_path) {
      longpoll->handle(r, responder);
      return;
    }
    const auto& handler = server_->hooks().http;
    if (!handler || !handler(r, responder))
      respond({404, "text/plain", "not found\n", {}}, keep_alive);
  }

  http_request plain_request(const http::request<http::string_body>& req, std::string_view path) {
    http_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.path = std::string(path);
    r.query = parse_query(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      r.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    r.body = req.body();
    r.peer = peer_of(tcp_of(stream_));
    return r;
  }

  void respond(http_response res, bool keep_alive) {
    auto out = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(res.status), 11);
    out->set(http::field::server, "beryl-cpp");
    out->set(http::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers) out->set(name, value);
    out->keep_alive(keep_alive);
    out->body() = std::move(res.body);
    out->prepare_payload();
    http::async_write(stream_, *out,
                      [self = this->shared_from_this(), out](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        self->in_flight_ = false;
                        if (!out->keep_alive() || self->server_->stopped())
                          return self->end_connection();
                        self->read();
                      });
  }

  void upgrade(const http::request<http::string_body>& req) {
    const auto& settings = server_->settings();
    auto refuse = [this](unsigned status) { respond({status, "text/plain", "", {}}, false); };
    auto key = req[http::field::sec_websocket_key];
    if (key.empty() || req[http::field::sec_websocket_version] != "13") return refuse(400);
    std::string origin(req[http::field::origin]);
    if (!settings.check_origin.allows(origin, req[http::field::host])) return refuse(403);

    connect_info info;
    info.params = parse_query(req.target());
    info.origin = origin;
    info.user_agent = std::string(req[http::field::user_agent]);
    info.peer = peer_of(tcp_of(stream_));
    info.uri = std::string(req.target());
    info.transport = "websocket";
    const serializer* format = wire::serializer_for_vsn(info.param("vsn"));
    if (!format) return refuse(403);
    auto protocols = handshake::parse_subprotocols(req[http::field::sec_websocket_protocol]);
    if (!protocols.valid) return refuse(403);
    info.auth_token = protocols.auth_token;

    auto admitted = server_->admit(info.peer);
    if (!admitted.ticket) return refuse(admitted.status());
    auto result = run_on_connect(server_->hooks().on_connect, info);
    if (!result.accepted) return refuse(result.status);

    std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        handshake::accept_key(key) + "\r\n";
    if (protocols.selected) response += "Sec-WebSocket-Protocol: " + *protocols.selected + "\r\n";
    response += "\r\n";

    deadline_.cancel();
    auto early = beast::buffers_to_string(buffer_.data());
    auto server = server_;
    ws_connection::byte_stream bytes = [this]() -> ws_connection::byte_stream {
      if constexpr (tls)
        return std::make_unique<tls_stream>(std::move(stream_));
      else
        return std::move(stream_);
    }();
    auto conn = std::make_shared<ws_connection>(std::move(bytes), settings, format, server,
                                                std::move(admitted.ticket));
    auto actor =
        start_socket(server->system(), conn, format, std::move(result), info, server->deps());
    server->add(conn);
    conn->start(std::move(actor), std::move(response), std::move(early));
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<beast_listener_impl> server_;
  asio::steady_timer deadline_;
  bool in_flight_ = false;  // a request was read and its response is not written yet
};

template <class Stream>
void start_session(Stream stream, beast::flat_buffer early,
                   const std::shared_ptr<beast_listener_impl>& server) {
  auto session =
      std::make_shared<http_session<Stream>>(std::move(stream), std::move(early), server);
  server->add_session(session);
  session->run();
}

// With a certificate, a connection's first bytes tell whether it speaks TLS (a ClientHello) or
// plain HTTP. Either way they stay buffered for the session that follows.
class protocol_detector final : public http_session_base,
                                public std::enable_shared_from_this<protocol_detector> {
 public:
  protocol_detector(plain_socket socket, std::shared_ptr<beast_listener_impl> server)
      : socket_(std::move(socket)), server_(std::move(server)), deadline_(socket_.get_executor()) {}

  ~protocol_detector() override { server_->remove_session(this); }

  // A client that has sent nothing yet must not hold the shutdown up until its deadline.
  void close() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
  }

  void run() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->deadline_.expires_after(http_read_timeout);
      self->deadline_.async_wait([weak = self->weak_from_this()](boost::system::error_code ec) {
        if (auto detector = weak.lock(); detector && !ec) detector->socket_.close(ec);
      });
      beast::async_detect_ssl(
          self->socket_, self->buffer_,
          [self](boost::system::error_code ec, bool tls) { self->on_detected(ec, tls); });
    });
  }

 private:
  void on_detected(boost::system::error_code ec, bool tls) {
    deadline_.cancel();
    if (ec || server_->stopped()) return;
    if (tls)
      start_session(tls_stream(std::move(socket_), server_->tls_context()), std::move(buffer_),
                    server_);
    else
      start_session(std::move(socket_), std::move(buffer_), server_);
  }

  plain_socket socket_;
  beast::flat_buffer buffer_;
  std::shared_ptr<beast_listener_impl> server_;
  asio::steady_timer deadline_;
};

void beast_listener_impl::accept() {
  if (stopped_) return;
  acceptor_.async_accept(
      io_.connection_executor(),
      [self = shared_from_this()](boost::system::error_code ec, plain_socket socket) {
        if (self->stopped_) return;
        if (ec) {
          // Out of file descriptors (or a similar passing error): the connection waits in the
          // backlog; retry a little later instead of spinning.
          self->note_accept_failure(ec);
          self->retry_.expires_after(accept_retry_delay);
          self->retry_.async_wait([self](boost::system::error_code wait_ec) {
            if (!wait_ec) self->accept();
          });
          return;
        }
        self->note_accept_success();
        ++self->accepted_;
        if (self->tls_context_) {
          auto detector = std::make_shared<protocol_detector>(std::move(socket), self);
          self->add_session(detector);
          detector->run();
        } else
          start_session(std::move(socket), beast::flat_buffer(), self);
        self->accept();
      });
}

void beast_listener_impl::sweep() {
  auto now = ws_connection::clock::now();
  for (auto& c : live_connections()) c->check_timeouts(now);
  if (longpoll_) longpoll_->tick(now);
  if (stopped_ && connections() == 0) return;  // nothing left to watch: let the io_context end
  auto interval = std::min(
      {std::chrono::milliseconds(1000), settings_.idle_timeout / 4, settings_.longpoll_window / 4});
  sweeper_.expires_after(std::max(interval, std::chrono::milliseconds(10)));
  sweeper_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->sweep();
  });
}

void beast_listener_impl::stop_now(const caf::error& reason, std::uint16_t code) {
  if (stopped_.exchange(true)) return;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  auto conns = live_connections();
  spdlog::info("listener on port {} stopping: closing {} connection(s) with {}", port_,
               conns.size(), code);
  for (auto& c : conns) c->shut_down(reason, code);
  for (auto& s : live(sessions_)) s->close();
  if (longpoll_) longpoll_->stop(reason);
  // Sweep now, and from now on only while connections are still closing.
  sweeper_.cancel();
  sweep();
}

}  // namespace

std::shared_ptr<beast_listener> make_beast_listener(caf::actor_system& sys, io_runtime& io,
                                                    transport_settings settings, server_hooks hooks,
                                                    std::shared_ptr<const socket_deps> deps) {
  auto core = std::make_shared<beast_listener_impl>(sys, io, std::move(settings), std::move(hooks),
                                                    std::move(deps));
  core->open();
  return core;
}

}  // namespace beryl
