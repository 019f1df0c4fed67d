#include "transport/longpoll.hpp"

#include "actors/message_types.hpp"
#include "actors/stop_reason.hpp"
#include "core/base64.hpp"
#include "core/counters.hpp"
#include "core/json_serializer.hpp"
#include "core/json_text.hpp"
#include "core/log_metadata.hpp"
#include "core/telemetry.hpp"
#include "transport/client_log.hpp"
#include "transport/inbound_lease.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

namespace beryl {
namespace {

using clock = longpoll_endpoint::clock;

constexpr std::size_t max_batch_lines = 100;  // as Phoenix (and phoenix.js's batches)
constexpr const char* no_binary_reason = "long-poll carries no binary frames";

http_response json_response(std::string body) {
  return {200,
          "application/json; charset=utf-8",
          std::move(body),
          {{"cache-control", "no-store"}, {"access-control-allow-origin", "*"}}};
}

http_response status_only(int status) {
  return json_response("{\"status\":" + std::to_string(status) + "}");
}

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("no random bytes for long-poll tokens");
  return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

// The lines of an ndjson batch, at most 100 (extra lines are ignored, as Phoenix does).
std::vector<std::string_view> batch_lines(std::string_view body) {
  std::vector<std::string_view> lines;
  while (!body.empty() && lines.size() < max_batch_lines) {
    auto end = body.find('\n');
    auto line = body.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string_view::npos) break;
    body.remove_prefix(end + 1);
  }
  return lines;
}

constexpr std::size_t id_hex_size = 32;   // 16 random bytes
constexpr std::size_t mac_hex_size = 64;  // HMAC-SHA256

bool looks_like_session_token(const std::string& t) {
  return t.size() == id_hex_size + 1 + mac_hex_size && t[id_hex_size] == '.' &&
         t.find_first_not_of("0123456789abcdef.") == std::string::npos;
}

}  // namespace

// One long-poll client: the outbox its socket actor writes to, buffering text frames until a GET
// takes them.
class longpoll_session final : public outbox,
                               public std::enable_shared_from_this<longpoll_session> {
 public:
  // `admitted` holds the session's place under the connection caps until it is forgotten.
  longpoll_session(std::string token, const transport_settings& settings, const serializer* format,
                   admission_gate::ticket admitted)
      : token_(std::move(token)),
        settings_(settings),
        format_(format),
        admitted_(std::move(admitted)),
        last_get_(clock::now()) {}

  const serializer* format() const { return format_; }
  const std::string& token() const { return token_; }
  bool ended() {
    std::lock_guard lock(mutex_);
    return ended_;
  }

  void start(socket_actor actor) {
    std::lock_guard lock(mutex_);
    actor_ = std::move(actor);
  }

  // Held while a POST's messages go to the socket actor, so two POSTs never interleave.
  std::mutex dispatch_mutex;

  // `bytes`: what the message came as, charged to --inbound-buffer-limit until it is handled.
  void deliver(message m, std::size_t bytes) {
    socket_actor actor;
    {
      std::lock_guard lock(mutex_);
      actor = actor_;
      held_ += bytes;
    }
    m.lease = make_inbound_lease(shared_from_this(), bytes);
    counters::add(counters::count::messages_in);
    counters::add(counters::count::bytes_in, bytes);
    caf::anon_send(actor, std::move(m));
  }

  // A POST is answered once the session's messages that the actors still hold are within
  // --inbound-buffer-limit: a client posting faster than its channels handle waits for the
  // answer instead of piling messages up (phoenix.js sends its next batch after the answer).
  void answer_when_handled(const http_responder& respond) {
    {
      std::lock_guard lock(mutex_);
      if (held_ > settings_.inbound_buffer_limit) {
        unanswered_.push_back(respond);
        return;
      }
    }
    respond(status_only(200));
  }

  // The actors dropped a delivered message (transport/inbound_lease.hpp); any thread.
  void release_inbound(std::size_t bytes) {
    std::vector<http_responder> answer;
    {
      std::lock_guard lock(mutex_);
      held_ -= bytes;
      if (held_ <= settings_.inbound_buffer_limit) answer.swap(unanswered_);
    }
    for (auto& respond : answer) respond(status_only(200));
  }

  void send(frame f) override {
    if (f.binary) {
      // The client's push still gets an answer, as an error it can see, instead of timing out.
      auto to = wire::binary_reply_address(*f.bytes);
      if (!to) {
        client_caused_log().warn(
            "long-poll carries no binary frames: a binary push or broadcast was not sent");
        return;
      }
      f = format_->reply(to->join_ref, to->ref, to->topic, "error",
                         boost::json::value(boost::json::object{{"reason", no_binary_reason}}));
    }
    http_responder waiting;
    std::string body;
    std::optional<std::size_t> overflowed;  // bytes waiting when the buffer overflowed
    {
      std::lock_guard lock(mutex_);
      if (ended_) return;
      if (buffer_.size() >= settings_.outbound_queue_limit ||
          buffered_bytes_ + f.size() > settings_.outbound_buffer_limit) {
        overflowed = buffered_bytes_;
        if (settings_.slow_consumer == slow_consumer_policy::disconnect) {
          client_caused_log().warn(
              "long-poll session: {} messages ({} bytes) waiting for a GET, ending it",
              buffer_.size(), buffered_bytes_);
          end_locked(make_error(stop_code::closed), waiting, body);
        }
      } else {
        counters::add(counters::count::messages_out);
        counters::add(counters::count::bytes_out, f.size());
        buffered_bytes_ += f.size();
        // A poll's answer joins the messages into one JSON array: a shared body is copied then.
        buffer_.push_back(f.shared_body ? std::make_shared<const std::string>(f.contents())
                                        : std::move(f.bytes));
        if (waiting_) take_poll_locked(waiting, body);
      }
    }
    if (overflowed) report_slow_consumer(*overflowed);
    if (waiting) waiting(json_response(std::move(body)));
  }

  void close(std::uint16_t, std::string) override { end(make_error(stop_code::closed)); }

  void end(const caf::error& reason) {
    http_responder waiting;
    std::string body;
    {
      std::lock_guard lock(mutex_);
      end_locked(reason, waiting, body);
    }
    if (waiting) waiting(json_response(std::move(body)));
  }

  void poll(const http_responder& respond, clock::time_point now) {
    http_responder answer_now;
    std::string body;
    {
      std::lock_guard lock(mutex_);
      last_get_ = now;
      if (ended_) {
        body = R"({"status":410})";
        answer_now = respond;
      } else if (!buffer_.empty()) {
        answer_now = respond;
        body = messages_locked(200);
      } else {
        if (waiting_) {
          // A newer poll replaces a held one, which gets "no messages".
          answer_now = std::move(waiting_);
          body = messages_locked(204);
        }
        waiting_ = respond;
        deadline_ = now + settings_.longpoll_window;
      }
    }
    if (answer_now) answer_now(json_response(std::move(body)));
  }

  // Returns false once the session has ended and can be forgotten.
  bool tick(clock::time_point now) {
    http_responder waiting;
    std::string body;
    bool alive = true;
    {
      std::lock_guard lock(mutex_);
      if (waiting_ && now >= deadline_) {
        waiting = std::move(waiting_);
        waiting_ = nullptr;
        body = messages_locked(204);
      } else if (!waiting_ && !ended_ && now - last_get_ > settings_.longpoll_window * 3 / 2) {
        spdlog::debug("long-poll session inactive: ending it");
        end_locked(make_error(stop_code::closed), waiting, body);
      }
      alive = !ended_;
    }
    if (waiting) waiting(json_response(std::move(body)));
    return alive;
  }

 private:
  std::string messages_locked(int status) {
    std::string body = "{\"status\":" + std::to_string(status) + ",\"token\":";
    wire::append_json_string(body, token_);
    body += ",\"messages\":[";
    for (std::size_t i = 0; i < buffer_.size(); ++i) {
      if (i) body += ',';
      wire::append_json_string(body, *buffer_[i]);
    }
    body += "]}";
    buffer_.clear();
    buffered_bytes_ = 0;
    return body;
  }

  void take_poll_locked(http_responder& waiting, std::string& body) {
    waiting = std::move(waiting_);
    waiting_ = nullptr;
    body = messages_locked(200);
  }

  // A held poll learns that the session is gone (410): phoenix.js reconnects and rejoins.
  void report_slow_consumer(std::size_t waiting_bytes) {
    counters::add(counters::error::slow_consumer);
    if (!telemetry::attached(telemetry::event::slow_consumer)) return;
    telemetry::metadata meta;
    meta.transport = "longpoll";
    meta.action = settings_.slow_consumer == slow_consumer_policy::drop ? "drop" : "disconnect";
    telemetry::execute(telemetry::event::slow_consumer,
                       {std::chrono::nanoseconds(0), waiting_bytes}, meta);
  }

  void end_locked(const caf::error& reason, http_responder& waiting, std::string& body) {
    if (ended_) return;
    ended_ = true;
    buffer_.clear();
    buffered_bytes_ = 0;
    send_stop(caf::actor_cast<caf::actor>(actor_), reason);
    actor_ = nullptr;
    if (waiting_) {
      waiting = std::move(waiting_);
      waiting_ = nullptr;
      body = R"({"status":410})";
    }
  }

  const std::string token_;
  const transport_settings& settings_;
  const serializer* format_;
  const admission_gate::ticket admitted_;
  std::mutex mutex_;
  socket_actor actor_;
  std::vector<std::shared_ptr<const std::string>> buffer_;
  std::size_t buffered_bytes_ = 0;          // --outbound-buffer-limit bounds it
  std::size_t held_ = 0;                    // bytes of delivered messages the actors still hold
  std::vector<http_responder> unanswered_;  // POSTs waiting for held_ to go down
  http_responder waiting_;
  clock::time_point deadline_;
  clock::time_point last_get_;
  bool ended_ = false;
};

longpoll_endpoint::longpoll_endpoint(caf::actor_system& sys, const transport_settings& settings,
                                     const connect_handler& on_connect,
                                     std::shared_ptr<const socket_deps> deps, admit_function admit)
    : sys_(sys),
      settings_(settings),
      on_connect_(on_connect),
      deps_(std::move(deps)),
      admit_(std::move(admit)),
      secret_(random_hex(32)) {}

longpoll_endpoint::~longpoll_endpoint() = default;

std::size_t longpoll_endpoint::sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void longpoll_endpoint::handle(const http_request& req, const http_responder& respond) {
  if (!settings_.check_origin.allows(req)) {
    respond(status_only(403));
    return;
  }
  if (req.method == "OPTIONS") {
    auto res = json_response("");
    res.content_type = "text/plain";
    res.headers.emplace_back("access-control-allow-methods", "get, post, options");
    res.headers.emplace_back("access-control-max-age", "3600");
    if (auto* asked = req.header("access-control-request-headers"))
      res.headers.emplace_back("access-control-allow-headers", *asked);
    respond(std::move(res));
  } else if (req.method == "GET") {
    poll(req, respond);
  } else if (req.method == "POST") {
    publish(req, respond);
  } else {
    respond({400, "text/plain", "GET, POST or OPTIONS\n", {}});
  }
}

std::string longpoll_endpoint::sign(const std::string& id) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(id.data()), id.size(), mac, &size);
  return hex(mac, size);
}

// The session named by the token: the X-Phoenix-Longpoll-Token header (phoenix.js 1.9) or the
// last `token` query parameter (phoenix.js 1.8, after the app's own `token`).
std::shared_ptr<longpoll_session> longpoll_endpoint::find(const http_request& req) {
  const std::string* token = req.header("x-phoenix-longpoll-token");
  if (!token) token = req.param("token");
  if (!token) return nullptr;
  auto dot = token->find('.');
  if (dot == std::string::npos) return nullptr;
  auto id = token->substr(0, dot);
  auto mac = token->substr(dot + 1);
  auto expected = sign(id);
  if (mac.size() != expected.size() || CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) != 0)
    return nullptr;
  std::shared_ptr<longpoll_session> session;
  {
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(id); it != sessions_.end()) session = it->second;
  }
  // An ended session is gone even before the next tick forgets it: a POST gets 410, a GET a new
  // one.
  return session && !session->ended() ? session : nullptr;
}

void longpoll_endpoint::poll(const http_request& req, const http_responder& respond) {
  if (auto session = find(req)) {
    session->poll(respond, clock::now());
    return;
  }
  open_session(req, respond);
}

void longpoll_endpoint::open_session(const http_request& req, const http_responder& respond) {
  connect_info info;
  info.params = req.query;
  // phoenix.js 1.8 appends its (stale) session token after the app's params: it is not the app's.
  auto last_token = std::find_if(info.params.rbegin(), info.params.rend(),
                                 [](const auto& p) { return p.first == "token"; });
  if (last_token != info.params.rend() && looks_like_session_token(last_token->second))
    info.params.erase(std::next(last_token).base());
  if (auto* origin = req.header("origin")) info.origin = *origin;
  if (auto* agent = req.header("user-agent")) info.user_agent = *agent;
  if (auto* token = req.header("x-phoenix-authtoken")) info.auth_token = *token;
  info.peer = req.peer;
  info.uri = req.target;
  info.transport = "longpoll";
  const serializer* format = wire::serializer_for_vsn(info.param("vsn"));
  if (!format) {
    respond(status_only(403));
    return;
  }
  // At a connection cap the HTTP status says so, and the body is no long-poll answer: phoenix.js
  // then retries later, as after a network error.
  auto admitted = admit_(info.peer);
  if (!admitted.ticket) {
    respond({admitted.status(), "text/plain", "too many connections\n", {}});
    return;
  }
  auto result = run_on_connect(on_connect_, info);
  if (!result.accepted) {
    respond(status_only(403));
    return;
  }
  auto id = random_hex(id_hex_size / 2);
  auto session = std::make_shared<longpoll_session>(id + "." + sign(id), settings_, format,
                                                    std::move(admitted.ticket));
  auto actor = start_socket(sys_, session, format, std::move(result), info, deps_);
  session->start(std::move(actor));
  {
    std::lock_guard lock(mutex_);
    sessions_.emplace(id, session);
  }
  std::string body = R"({"status":410,"token":)";
  wire::append_json_string(body, session->token());
  body += R"(,"messages":[]})";
  respond(json_response(std::move(body)));
}

void longpoll_endpoint::publish(const http_request& req, const http_responder& respond) {
  auto session = find(req);
  if (!session) {
    respond(status_only(410));
    return;
  }
  const std::string* type = req.header("content-type");
  bool batch = type && (type->rfind("application/x-ndjson", 0) == 0 ||
                        type->rfind("application/ndjson", 0) == 0);
  std::vector<std::string_view> lines =
      batch ? batch_lines(req.body) : std::vector<std::string_view>{req.body};
  std::lock_guard order(session->dispatch_mutex);
  // A message that cannot be delivered ends the session, as it closes a WebSocket (1007, 1009):
  // the lines before it were delivered already, and the client reconnects.
  auto refuse = [&](unsigned status, const std::string& what) {
    log_metadata_scope about({{}, {}, req.peer, {}});
    client_caused_log().info("ending a long-poll session after a message it cannot take: {}",
                             log_text(what));
    counters::add(counters::error::bad_message);
    session->end(make_error(stop_code::closed));
    respond({status, "text/plain", what + "\n", {}});
  };
  for (auto line : lines) {
    // A text message starts with '[' (V2) or '{' (V1); anything else is a base64 binary frame.
    bool text = !batch || line.front() == '[' || line.front() == '{';
    std::optional<std::string> bytes;
    if (!text && !(bytes = base64::decode(line)))
      return refuse(400, "invalid message: invalid base64");
    // --max-frame-size bounds each message as on WebSocket, whatever the batch's size.
    std::size_t size = text ? line.size() : bytes->size();
    if (size > settings_.max_frame_size)
      return refuse(413, "message too big: " + std::to_string(size) + " bytes, at most " +
                             std::to_string(settings_.max_frame_size));
    decode_result decoded =
        session->format()->decode(text ? line : std::string_view(*bytes), !text);
    if (auto* error = std::get_if<decode_error>(&decoded))
      return refuse(400, "invalid message: " + error->what);
    session->deliver(std::move(std::get<message>(decoded)), size);
  }
  session->answer_when_handled(respond);
}

void longpoll_endpoint::tick(clock::time_point now) {
  std::vector<std::pair<std::string, std::shared_ptr<longpoll_session>>> all;
  {
    std::lock_guard lock(mutex_);
    all.assign(sessions_.begin(), sessions_.end());
  }
  std::vector<std::string> ended;
  for (auto& [id, session] : all)
    if (!session->tick(now)) ended.push_back(id);
  if (ended.empty()) return;
  std::lock_guard lock(mutex_);
  for (auto& id : ended) sessions_.erase(id);
}

void longpoll_endpoint::stop(const caf::error& reason) {
  drain(SIZE_MAX, reason);
}

longpoll_endpoint::drained longpoll_endpoint::drain(std::size_t batch, const caf::error& reason) {
  std::vector<std::shared_ptr<longpoll_session>> ending;
  std::size_t left = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end() && ending.size() < batch;) {
      ending.push_back(std::move(it->second));
      it = sessions_.erase(it);
    }
    left = sessions_.size();
  }
  for (auto& session : ending) session->end(reason);
  return {ending.size(), left};
}

}  // namespace beryl
