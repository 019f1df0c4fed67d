#include "app/demo/demo.hpp"

#include "core/exact_json.hpp"

#include "app/demo/bench_channel.hpp"
#include "app/demo/presence_channel.hpp"
#include "app/demo/room_channel.hpp"

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
  routes.add<room_channel>("room:*")
      .add<presence_channel>("presence:*")
      .add<bench_channel>("bench:*");
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

http_handler demo_api(const std::shared_ptr<endpoint>& app_endpoint,
                      handshake::origin_policy origins) {
  return [app_endpoint, origins = std::move(origins)](const http_request& req,
                                                      const http_responder& respond) {
    bool broadcast = req.path == "/api/broadcast";
    if (!broadcast && req.path != "/api/disconnect") return false;
    // Every request of ours is answered: `answer` says so by returning true.
    auto answer = [&respond](unsigned status, const std::string& text) {
      respond({status, "text/plain; charset=utf-8", text + "\n", {}});
      return true;
    };
    if (req.method != "POST") return answer(405, "POST expected");
    // A form or fetch from another site's page would act with the visitor's network access.
    if (!origins.allows(req)) return answer(403, "cross-site request refused");
    bool sent = false;
    if (broadcast) {
      const std::string* topic = req.param("topic");
      const std::string* event = req.param("event");
      if (!topic || !event || topic->empty() || event->empty())
        return answer(400, "topic=T&event=E expected");
      boost::system::error_code ec;
      auto body = parse_exact_json(req.body, ec);
      if (ec || !body.is_object()) return answer(400, "a JSON object body expected");
      sent = app_endpoint->broadcast(*topic, *event, std::move(body));
    } else {
      const std::string* id = req.param("id");
      if (!id || id->empty()) return answer(400, "id=ID expected");
      sent = app_endpoint->disconnect(*id);
    }
    return sent ? answer(202, "sent") : answer(503, "the server is not running");
  };
}

}  // namespace beryl::app
