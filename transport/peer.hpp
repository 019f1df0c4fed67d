#pragma once
// Transport-internal: a client's "address:port" as logs, /debug/connections and telemetry show
// it; empty once the socket is closed.
#include "transport/plain_socket.hpp"

#include <string>

namespace beryl {

inline std::string peer_of(const plain_socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace beryl
