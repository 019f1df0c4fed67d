#include "app/runtime/debug_routes.hpp"

#include "core/json_text.hpp"
#include "supervision/messages.hpp"
#include "supervision/registry.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <caf/all.hpp>

#include <algorithm>
#include <charconv>

namespace beryl::app {
namespace {

constexpr auto supervisor_timeout = std::chrono::seconds(5);

http_response json(unsigned status, std::string body) {
  return {
      status, "application/json; charset=utf-8", std::move(body), {{"cache-control", "no-store"}}};
}

std::string error_body(const std::string& what) {
  std::string body = "{\"error\":";
  wire::append_json_string(body, what);
  return body + "}";
}

// Asks a supervisor (the root, mostly) from a short-lived actor, so no network thread ever waits.
template <class... Ts, class OnReply>
void ask_supervisor(caf::actor_system& sys, const caf::actor& supervisor,
                    const http_responder& respond, OnReply on_reply, Ts... request) {
  sys.spawn([=](caf::event_based_actor* self) {
    self->request(supervisor, supervisor_timeout, request...).then(on_reply, [=](caf::error& err) {
      respond(json(404, error_body(self->system().render(err))));
    });
  });
}

constexpr std::size_t default_connections_limit = 100;
constexpr std::size_t max_connections_limit = 10000;

std::size_t limit_of(const http_request& req) {
  const std::string* text = req.param("limit");
  std::size_t limit = default_connections_limit;
  if (text) std::from_chars(text->data(), text->data() + text->size(), limit);
  return std::min(limit, max_connections_limit);
}

}  // namespace

http_handler debug_routes(caf::actor_system& sys, std::function<caf::actor()> root,
                          bool crash_injection) {
  return [&sys, root = std::move(root), crash_injection](const http_request& req,
                                                         const http_responder& respond) {
    bool snapshot = req.path == "/debug/supervision" && req.method == "GET";
    bool crash = req.path == "/debug/crash" && req.method == "POST" && crash_injection;
    if (!snapshot && !crash) return false;
    auto tree = root();
    if (!tree) {
      respond(json(503, error_body("the supervision tree is not running")));
      return true;
    }
    if (snapshot) {
      // The one place the snapshot becomes JSON text.
      ask_supervisor(
          sys, tree, respond,
          [respond](const boost::json::value& tree_json) {
            respond(json(200, boost::json::serialize(tree_json)));
          },
          supervision::snapshot_atom::value);
      return true;
    }
    const std::string* child = req.param("child");
    if (!child || child->empty()) {
      respond(json(400, error_body("child=NAME expected")));
      return true;
    }
    auto name = *child;
    // A child of the root by default; with supervisor=NAME, of that registered supervisor.
    caf::actor parent = tree;
    const std::string* parent_name = req.param("supervisor");
    if (parent_name && !parent_name->empty()) {
      parent = supervision::lookup(sys, *parent_name);
      if (!parent) {
        respond(json(404, error_body("no running supervisor named " + *parent_name)));
        return true;
      }
    }
    auto crashed = [respond, name](caf::ok_atom) {
      std::string body = "{\"crashed\":";
      wire::append_json_string(body, name);
      respond(json(200, body + "}"));
    };
    // A dynamic supervisor's children have no names of their own: they go by their snapshot's id.
    caf::actor_id id = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (parent != tree && ec == std::errc() && end == name.data() + name.size())
      ask_supervisor(sys, parent, respond, crashed, supervision::crash_atom::value, id);
    else
      ask_supervisor(sys, parent, respond, crashed, supervision::crash_atom::value, name);
    return true;
  };
}

http_handler connections_route(caf::actor_system& sys,
                               std::function<coordinator_actor()> coordinator) {
  return [&sys, coordinator = std::move(coordinator)](const http_request& req,
                                                      const http_responder& respond) {
    if (req.path != "/debug/connections" || req.method != "GET") return false;
    auto registry = coordinator();
    if (!registry) {
      respond(json(503, error_body("the coordinator is not running")));
      return true;
    }
    auto limit = limit_of(req);
    // A short-lived actor asks, so that no network thread waits.
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(registry, supervisor_timeout, atoms::list::value, limit)
          .then(
              [=](const boost::json::value& list) {
                respond(json(200, boost::json::serialize(list)));
              },
              [=](caf::error&) {
                respond(json(503, error_body("the coordinator did not answer")));
              });
    });
    return true;
  };
}

http_handler cluster_route(caf::actor_system& sys, bool clustered, std::string node) {
  return [&sys, clustered, node = std::move(node)](const http_request& req,
                                                   const http_responder& respond) {
    if (req.path != "/debug/cluster" || req.method != "GET") return false;
    if (!clustered) {
      boost::json::object alone{{"node", node}, {"peers", boost::json::array{}}};
      respond(json(200, boost::json::serialize(alone)));
      return true;
    }
    auto cluster = caf::actor_cast<cluster_actor>(supervision::lookup(sys, "cluster"));
    if (!cluster) {
      respond(json(503, error_body("the cluster is not running")));
      return true;
    }
    // A short-lived actor asks, so that no network thread waits.
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(cluster, supervisor_timeout, atoms::list::value)
          .then(
              [=](const boost::json::value& view) {
                respond(json(200, boost::json::serialize(view)));
              },
              [=](caf::error&) { respond(json(503, error_body("the cluster did not answer"))); });
    });
    return true;
  };
}

}  // namespace beryl::app
