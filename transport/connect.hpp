#pragma once
// The app's connect callback (Phoenix's Socket.connect/3): it sees the connect parameters and
// either accepts (setting the socket id and assigns) or refuses (HTTP 403 before the upgrade).
// It runs on a network thread: keep it quick and non-blocking.
#include "actors/socket.hpp"
#include "actors/socket_protocol.hpp"
#include "core/http.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>

namespace beryl {

struct connect_info {
  string_pairs params;                    // the query string, decoded; "vsn" included
  std::optional<std::string> auth_token;  // from Sec-WebSocket-Protocol (phoenix.js authToken)
  std::string origin, user_agent, peer, uri;
  const char* transport = "";  // "websocket" or "longpoll": a literal, never freed

  const std::string* param(std::string_view key) const { return find_last(params, key); }
};

struct connect_result {
  bool accepted = true;
  unsigned status = 403;          // when refused
  std::optional<std::string> id;  // "users_socket:42": disconnect-by-id targets it
  boost::json::object assigns;

  static connect_result accept(std::optional<std::string> id = {},
                               boost::json::object assigns = {}) {
    return {true, 0, std::move(id), std::move(assigns)};
  }
  static connect_result refuse(unsigned status = 403) { return {false, status, {}, {}}; }
};

using connect_handler = std::function<connect_result(const connect_info&)>;

// `on_connect`'s answer: accept when there is none; an exception refuses (and is logged).
connect_result run_on_connect(const connect_handler& on_connect, const connect_info& info);

// The socket actor of an accepted connection, whatever its transport. When the actor ends
// first (a disconnect, a crash), it closes the connection with a code phoenix.js reconnects on
// (actors/socket.cpp).
socket_actor start_socket(caf::actor_system& sys, const std::shared_ptr<outbox>& out,
                          const serializer* format, connect_result accepted,
                          const connect_info& info, const std::shared_ptr<const socket_deps>& deps);

}  // namespace beryl
