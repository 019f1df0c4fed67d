// beryl-yardstick: the benchmark suite's reference server. It serves the bench:* contract of
// bench/README.md with Boost.Beast and Boost.JSON alone (the libraries beryl-server uses, without
// the actor framework), written the way Beast's own multi-threaded WebSocket examples are: one
// io_context on every core, a strand per connection, one write in flight per connection and the
// rest queued, a broadcast encoded once and posted to every subscriber. bench/run runs it beside
// beryl-server and reports beryl / yardstick. It is built for benchmarks only, on loopback.
//
// The whole server is one translation unit: Beast's asynchronous code is expensive to compile.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

namespace {

// Frames queued for one slow client before it is dropped.
constexpr std::size_t max_queued_frames = 4096;
constexpr std::size_t max_message_bytes = 1 << 20;
// Topics one connection may join, as beryl-server's --max-channels default.
constexpr std::size_t max_topics = 100;

class ws_session;

// Who listens on each topic, shared by every thread.
class topic_table {
 public:
  void join(const std::string& topic, const std::shared_ptr<ws_session>& member) {
    std::lock_guard lock(mutex_);
    members_[topic][member.get()] = member;
  }

  void leave(const std::string& topic, ws_session* member) {
    std::lock_guard lock(mutex_);
    auto it = members_.find(topic);
    if (it == members_.end()) return;
    it->second.erase(member);
    if (it->second.empty()) members_.erase(it);
  }

  std::vector<std::shared_ptr<ws_session>> members_of(const std::string& topic) {
    std::vector<std::shared_ptr<ws_session>> out;
    std::lock_guard lock(mutex_);
    auto it = members_.find(topic);
    if (it == members_.end()) return out;
    out.reserve(it->second.size());
    for (auto& [_, weak] : it->second)
      if (auto member = weak.lock()) out.push_back(std::move(member));
    return out;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::unordered_map<ws_session*, std::weak_ptr<ws_session>>>
      members_;
};

// [join_ref, ref, topic, event, payload], as Phoenix's V2 serializer writes it.
std::shared_ptr<const std::string> encode(const json::value& join_ref, const json::value& ref,
                                          const json::value& topic, std::string_view event,
                                          json::value payload) {
  json::array frame{join_ref, ref, topic, json::string(event), std::move(payload)};
  return std::make_shared<const std::string>(json::serialize(frame));
}

std::shared_ptr<const std::string> reply(const json::array& msg, std::string_view status,
                                         json::value response) {
  return encode(msg[0], msg[1], msg[2], "phx_reply",
                json::object{{"status", status}, {"response", std::move(response)}});
}

class ws_session : public std::enable_shared_from_this<ws_session> {
 public:
  ws_session(tcp::socket&& socket, topic_table& topics) : ws_(std::move(socket)), topics_(topics) {}

  ~ws_session() {
    for (const auto& topic : joined_) topics_.leave(topic, this);
  }

  void run(http::request<http::string_body> upgrade) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(max_message_bytes);
    ws_.async_accept(upgrade,
                     beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
  }

  // Any thread: queues a frame on this connection's strand.
  void send(std::shared_ptr<const std::string> frame) {
    net::post(ws_.get_executor(),
              beast::bind_front_handler(&ws_session::queue, shared_from_this(), std::move(frame)));
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    ws_.text(true);
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return;
    json::error_code parse_error;
    auto data = buffer_.cdata();  // a flat_buffer's data is one contiguous range
    auto parsed = json::parse(json::string_view(static_cast<const char*>(data.data()), data.size()),
                              parse_error);
    buffer_.consume(buffer_.size());
    if (!parse_error && parsed.is_array() && parsed.as_array().size() == 5)
      handle(parsed.as_array());
    do_read();
  }

  void handle(json::array& msg) {
    auto* topic = msg[2].if_string();
    auto* event = msg[3].if_string();
    if (!topic || !event) return;
    if (*event == "heartbeat") return queue(reply(msg, "ok", json::object{}));
    if (*event == "phx_join") return join(msg, std::string(*topic));
    if (*event == "phx_leave") return leave(msg, std::string(*topic));
    if (*event == "ping") return queue(reply(msg, "ok", std::move(msg[4])));
    if (*event == "shout") {
      auto frame = encode(nullptr, nullptr, msg[2], "shout", std::move(msg[4]));
      for (auto& member : topics_.members_of(std::string(*topic))) member->send(frame);
    }
  }

  void join(const json::array& msg, std::string topic) {
    if (topic.rfind("bench:", 0) != 0)
      return queue(reply(msg, "error", json::object{{"reason", "unmatched topic"}}));
    bool joined = std::find(joined_.begin(), joined_.end(), topic) != joined_.end();
    if (!joined && joined_.size() >= max_topics)
      return queue(reply(msg, "error", json::object{{"reason", "too many channels joined"}}));
    if (!joined) {
      topics_.join(topic, shared_from_this());
      joined_.push_back(std::move(topic));
    }
    queue(reply(msg, "ok", json::object{}));
  }

  void leave(const json::array& msg, const std::string& topic) {
    if (auto it = std::find(joined_.begin(), joined_.end(), topic); it != joined_.end()) {
      topics_.leave(topic, this);
      joined_.erase(it);
    }
    queue(reply(msg, "ok", json::object{}));
  }

  void queue(std::shared_ptr<const std::string> frame) {
    if (queue_.size() >= max_queued_frames) return beast::get_lowest_layer(ws_).close();
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) do_write();
  }

  void do_write() {
    ws_.async_write(net::buffer(*queue_.front()),
                    beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    queue_.erase(queue_.begin());
    if (!queue_.empty()) do_write();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  topic_table& topics_;
  std::vector<std::string> joined_;
  std::vector<std::shared_ptr<const std::string>> queue_;
};

// Reads one request: /healthz is answered, /socket/websocket upgraded, anything else is 404.
class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket&& socket, topic_table& topics)
      : stream_(std::move(socket)), topics_(topics) {}

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&http_session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return;
    if (websocket::is_upgrade(request_) && request_.target().starts_with("/socket/websocket")) {
      stream_.expires_never();
      return std::make_shared<ws_session>(stream_.release_socket(), topics_)
          ->run(std::move(request_));
    }
    bool health = request_.target() == "/healthz";
    auto response = std::make_shared<http::response<http::string_body>>(
        health ? http::status::ok : http::status::not_found, request_.version());
    response->set(http::field::content_type, "text/plain");
    response->body() = health ? "ok\n" : "not found\n";
    response->prepare_payload();
    response->keep_alive(false);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  topic_table& topics_;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, const tcp::endpoint& endpoint, topic_table& topics)
      : ioc_(ioc), acceptor_(ioc, endpoint), topics_(topics) {}

  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!ec) socket.set_option(tcp::no_delay(true), ec);  // as beryl-server: no Nagle delay
    if (!ec) std::make_shared<http_session>(std::move(socket), topics_)->run();
    do_accept();  // also after EMFILE: the next accept may succeed once a connection ends
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  topic_table& topics_;
};

struct options {
  std::string host = "127.0.0.1";
  unsigned short port = 4001;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
};

int usage() {
  std::fputs("usage: beryl-yardstick [--host ADDR] [--port P] [--threads N]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; i += 2) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) return usage();
    if (flag == "--host")
      o.host = argv[i + 1];
    else if (flag == "--port")
      o.port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    else if (flag == "--threads")
      o.threads = std::max(1, std::atoi(argv[i + 1]));
    else
      return usage();
  }
  topic_table topics;  // outlives the io_context, whose destructor ends the sessions
  net::io_context ioc(static_cast<int>(o.threads));
  try {
    std::make_shared<listener>(ioc, tcp::endpoint(net::ip::make_address(o.host), o.port), topics)
        ->do_accept();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "beryl-yardstick: cannot listen on %s:%u: %s\n", o.host.c_str(), o.port,
                 e.what());
    return 1;
  }
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < o.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  return 0;
}
