#pragma once
// What the application plugs into the transport: its connect callback, its HTTP routes and its
// readiness for /healthz.
#include "core/http.hpp"
#include "transport/connect.hpp"

#include <functional>

namespace beryl {

struct server_hooks {
  connect_handler on_connect;   // accepts every connect when empty
  http_handler http;            // routes beside the socket path and /healthz
  std::function<bool()> ready;  // /healthz answers 503 while it says false (unset: ready)
};

}  // namespace beryl
