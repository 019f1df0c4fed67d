#include "app/runtime/connections_route.hpp"

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>

#include <algorithm>
#include <charconv>

namespace beryl::app {
namespace {

constexpr std::size_t default_limit = 100;
constexpr std::size_t max_limit = 10000;
constexpr auto ask_timeout = std::chrono::seconds(5);

http_response json_response(unsigned status, std::string body) {
  return {
      status, "application/json; charset=utf-8", std::move(body), {{"cache-control", "no-store"}}};
}

std::size_t limit_of(const http_request& req) {
  const std::string* text = req.param("limit");
  std::size_t limit = default_limit;
  if (text) std::from_chars(text->data(), text->data() + text->size(), limit);
  return std::min(limit, max_limit);
}

}  // namespace

http_handler connections_route(caf::actor_system& sys,
                               std::function<coordinator_actor()> coordinator) {
  return [&sys, coordinator = std::move(coordinator)](const http_request& req,
                                                      const http_responder& respond) {
    if (req.path != "/debug/connections" || req.method != "GET") return false;
    auto registry = coordinator();
    if (!registry) {
      respond(json_response(503, R"({"error":"the coordinator is not running"})"));
      return true;
    }
    auto limit = limit_of(req);
    // A short-lived actor asks, so that no network thread waits.
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(registry, ask_timeout, atoms::list::value, limit)
          .then(
              [=](const boost::json::value& list) {
                respond(json_response(200, boost::json::serialize(list)));
              },
              [=](caf::error&) {
                respond(json_response(503, R"({"error":"the coordinator did not answer"})"));
              });
    });
    return true;
  };
}

}  // namespace beryl::app
