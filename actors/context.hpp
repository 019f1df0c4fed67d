#pragma once
// What a socket and its channels know about their connection.
#include "actors/limited_log.hpp"
#include "core/outbox.hpp"
#include "core/serializer.hpp"
#include "core/telemetry.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>

namespace beryl {

// Shared, read-only but for its log, by the socket actor and every channel of one connection.
struct socket_info {
  std::shared_ptr<outbox> out;
  const serializer* format = nullptr;
  std::optional<std::string> id;  // set by on_connect; "disconnect by id" uses it
  boost::json::object assigns;    // set by on_connect
  const char* transport = "";     // "websocket" or "longpoll", a literal (transport/connect.hpp)
  std::string peer;               // the client's "address:port"
  // Warnings the client causes (unmatched topics, crashes, refused presences...) go through it,
  // so one connection cannot flood the server's log. Its lines carry the id and the peer as
  // log metadata.
  mutable limited_log log{&id, &peer};
};

// What telemetry is told of the connection in every event its socket and channels emit.
inline telemetry::metadata connection_metadata(const socket_info& info) {
  telemetry::metadata meta;
  meta.transport = info.transport;
  meta.remote_address = info.peer;
  if (info.id) meta.socket_id = *info.id;
  return meta;
}

}  // namespace beryl
