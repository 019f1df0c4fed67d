#pragma once
// The demo served by default: its channels, its connect rules and its HTTP routes.
#include "actors/router.hpp"
#include "app/runtime/endpoint.hpp"
#include "core/handshake.hpp"
#include "core/http.hpp"
#include "transport/connect.hpp"

#include <memory>
#include <string>

namespace beryl::app {

// room:* (chat) and bench:* (benchmarks).
void add_demo_channels(router& routes);

// token=bad (or authToken "bad") is refused with 403; no token is anonymous; user_id=X gives
// the socket the id "users_socket:X".
connect_result demo_connect(const connect_info& info);

// GET / (the chat page) and GET /assets/phoenix.js, from `static_dir`.
http_handler static_files(std::string static_dir);

// The endpoint at work from plain HTTP (no auth: the demo listens on 127.0.0.1):
//   POST /api/broadcast?topic=T&event=E  with a JSON object body: broadcast it to T -> 202
//   POST /api/disconnect?id=ID           close the connections with socket id ID  -> 202
// A browser page of another site gets 403: `origins` is the server's --check-origin.
http_handler demo_api(const std::shared_ptr<endpoint>& app_endpoint,
                      handshake::origin_policy origins);

}  // namespace beryl::app
