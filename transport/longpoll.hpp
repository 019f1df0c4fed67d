#pragma once
// Phoenix's long-poll transport (docs/protocol.md §8) for clients that cannot use WebSocket. A
// session is a connection: it feeds the same socket actor as a WebSocket, so channels, presence,
// broadcasts and supervision behave identically. Every logical status travels in an HTTP 200 JSON
// body; replies come back through later GETs as JSON strings.
//
// Ordering is by construction: a POST's lines go into the session's socket actor mailbox in order,
// under the session's lock, before the POST is answered, so nothing can overtake them.
#include "actors/socket.hpp"
#include "core/http.hpp"
#include "transport/admission_gate.hpp"
#include "transport/connect.hpp"
#include "transport/settings.hpp"

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace beryl {

class longpoll_session;

class longpoll_endpoint {
 public:
  using clock = std::chrono::steady_clock;

  // Asks for a place under the connection caps for a new session from a peer.
  using admit_function = std::function<admission_gate::outcome(std::string_view peer)>;

  longpoll_endpoint(caf::actor_system& sys, const transport_settings& settings,
                    const connect_handler& on_connect, std::shared_ptr<const socket_deps> deps,
                    admit_function admit);
  ~longpoll_endpoint();

  // GET (poll), POST (publish) and OPTIONS (CORS preflight) at the long-poll path.
  void handle(const http_request& req, const http_responder& respond);

  // Answers polls whose window passed (204) and ends sessions without a GET for 1.5 windows.
  void tick(clock::time_point now);

  // Ends every session: their socket actors stop with `reason`.
  void stop(const caf::error& reason);

  // Ends up to `batch` sessions as stop() does (a held GET gets {"status":410}).
  struct drained {
    std::size_t ended = 0;
    std::size_t left = 0;
  };
  drained drain(std::size_t batch, const caf::error& reason);

  std::size_t sessions() const;

 private:
  void poll(const http_request& req, const http_responder& respond);
  void publish(const http_request& req, const http_responder& respond);
  void open_session(const http_request& req, const http_responder& respond);
  std::shared_ptr<longpoll_session> find(const http_request& req);
  std::string sign(const std::string& id) const;

  caf::actor_system& sys_;
  const transport_settings& settings_;
  const connect_handler& on_connect_;
  std::shared_ptr<const socket_deps> deps_;
  admit_function admit_;
  std::string secret_;  // signs session tokens; random per process, as sessions are too
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<longpoll_session>> sessions_;
};

}  // namespace beryl
