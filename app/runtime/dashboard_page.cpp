#include "app/runtime/dashboard_page.hpp"

namespace beryl::app {

http_handler dashboard_route(std::string socket_path) {
  auto page = std::string(dashboard_html());
  auto at = page.find("@SOCKET_PATH@");
  if (at != std::string::npos) page.replace(at, 13, socket_path);
  return [page = std::move(page)](const http_request& req, const http_responder& respond) {
    if (req.path != "/dashboard" || req.method != "GET") return false;
    respond({200, "text/html; charset=utf-8", page, {{"cache-control", "no-store"}}});
    return true;
  };
}

}  // namespace beryl::app
