#include "app/demo.hpp"

#include "app/bench_channel.hpp"
#include "app/room_channel.hpp"

#include <fstream>
#include <sstream>

namespace beryl::app {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

void add_demo_channels(router& routes) {
  routes.add<room_channel>("room:*").add<bench_channel>("bench:*");
}

connect_result demo_connect(const connect_info& info) {
  auto* token = info.param("token");
  if ((token && *token == "bad") || (info.auth_token && *info.auth_token == "bad"))
    return connect_result::refuse(403);
  auto* user_id = info.param("user_id");
  if (!user_id) return connect_result::accept();
  return connect_result::accept("users_socket:" + *user_id, {{"user_id", *user_id}});
}

http_handler static_files(std::string static_dir) {
  return [dir = std::move(static_dir)](const http_request& req, const http_responder& respond) {
    if (req.method != "GET") return false;
    std::string file, type;
    if (req.path == "/" || req.path == "/index.html") {
      file = dir + "/index.html";
      type = "text/html; charset=utf-8";
    } else if (req.path == "/assets/phoenix.js") {
      file = dir + "/node_modules/phoenix/priv/static/phoenix.js";
      type = "text/javascript; charset=utf-8";
    } else {
      return false;
    }
    auto body = read_file(file);
    if (!body) {
      respond({404, "text/plain", "missing " + file + " (run app/run to install it)\n", {}});
      return true;
    }
    respond({200, type, std::move(*body), {{"cache-control", "no-cache"}}});
    return true;
  };
}

}  // namespace beryl::app
