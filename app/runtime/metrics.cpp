#include "app/runtime/metrics.hpp"

#include "actors/atoms.hpp"
#include "supervision/messages.hpp"
#include "supervision/registry.hpp"
#include "transport/listener.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

namespace beryl::app {
namespace {

namespace json = boost::json;

constexpr auto ask_timeout = std::chrono::seconds(5);

std::uint64_t number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64()) return static_cast<std::uint64_t>(std::max<std::int64_t>(v->get_int64(), 0));
  return 0;
}

std::string name_of(const json::object& node) {
  const auto* name = node.if_contains("name");
  return name && name->is_string() ? std::string(name->get_string()) : std::string("?");
}

// Label values escape backslash, quote and newline (the exposition format's rule).
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

struct exposition {
  std::string text;

  void header(const char* metric, const char* type, const char* help) {
    text += "# HELP ";
    text += metric;
    text += ' ';
    text += help;
    text += "\n# TYPE ";
    text += metric;
    text += ' ';
    text += type;
    text += '\n';
  }
  void sample(const char* metric, const std::string& labels, std::uint64_t value) {
    text += metric;
    if (!labels.empty()) text += '{' + labels + '}';
    text += ' ' + std::to_string(value) + '\n';
  }
};

// Calls `visit(parent, node)` for every node below the root, depth first.
template <class Visit>
void each_child(const json::object& node, Visit&& visit) {
  const auto* children = node.if_contains("children");
  if (!children || !children->is_array()) return;
  for (const auto& child : children->get_array()) {
    if (!child.is_object()) continue;
    visit(node, child.get_object());
    each_child(child.get_object(), visit);
  }
}

}  // namespace

std::string prometheus_text(const json::value& tree, const json::value& listener) {
  exposition out;
  const auto* root = tree.if_object();
  out.header("beryl_up", "gauge", "1 while the supervision tree runs.");
  out.sample("beryl_up", "", root ? 1 : 0);
  if (root) {
    out.header("beryl_restarts_total", "counter",
               "Restarts of each supervised child (the root's own under supervisor=\"\").");
    out.sample("beryl_restarts_total", "supervisor=\"\",child=\"" + label(name_of(*root)) + '"',
               number(*root, "restarts"));
    each_child(*root, [&](const json::object& parent, const json::object& child) {
      out.sample(
          "beryl_restarts_total",
          "supervisor=\"" + label(name_of(parent)) + "\",child=\"" + label(name_of(child)) + '"',
          number(child, "restarts"));
    });
    // Dynamic supervisors (the channels): children started, crashed, ended and running.
    struct dynamic_metric {
      const char* metric;
      const char* key;
      const char* type;
      const char* help;
    };
    static constexpr dynamic_metric dynamic[] = {
        {"beryl_channels_started_total", "started", "counter", "Children started (channels)."},
        {"beryl_channels_crashed_total", "crashed", "counter", "Children that crashed."},
        {"beryl_channels_exited_total", "exited", "counter", "Children that ended normally."},
        {"beryl_channels_active", "active", "gauge", "Children running now."},
    };
    std::vector<const json::object*> supervisors;
    each_child(*root, [&](const json::object&, const json::object& child) {
      const auto* kind = child.if_contains("kind");
      if (kind && kind->is_string() && kind->get_string() == "dynamic_supervisor")
        supervisors.push_back(&child);
    });
    for (const auto& m : dynamic) {
      out.header(m.metric, m.type, m.help);
      for (const auto* s : supervisors)
        out.sample(m.metric, "supervisor=\"" + label(name_of(*s)) + '"', number(*s, m.key));
    }
  }
  if (const auto* stats = listener.if_object()) {
    out.header("beryl_connections", "gauge", "Open WebSocket connections.");
    out.sample("beryl_connections", "", number(*stats, "connections"));
    out.header("beryl_accepted_total", "counter", "TCP connections accepted by this listener.");
    out.sample("beryl_accepted_total", "", number(*stats, "accepted"));
  }
  return out.text;
}

http_handler metrics_route(caf::actor_system& sys, std::function<caf::actor()> root) {
  return [&sys, root = std::move(root)](const http_request& req, const http_responder& respond) {
    if (req.path != "/metrics" || req.method != "GET") return false;
    auto tree = root();
    auto listener = caf::actor_cast<listener_actor>(supervision::lookup(sys, "listener"));
    auto answer = [respond](const json::value& tree_json, const json::value& listener_json) {
      respond({200,
               "text/plain; version=0.0.4; charset=utf-8",
               prometheus_text(tree_json, listener_json),
               {{"cache-control", "no-store"}}});
    };
    // A short-lived actor asks, so that no network thread waits; whatever fails is left out.
    sys.spawn([=](caf::event_based_actor* self) {
      auto ask_listener = [=](const json::value& tree_json) {
        if (!listener) return answer(tree_json, nullptr);
        self->request(listener, ask_timeout, atoms::stats::value)
            .then([=](const json::value& stats) { answer(tree_json, stats); },
                  [=](caf::error&) { answer(tree_json, nullptr); });
      };
      if (!tree) return ask_listener(nullptr);
      self->request(tree, ask_timeout, supervision::snapshot_atom::value)
          .then([=](json::value& snapshot) { ask_listener(std::move(snapshot)); },
                [=](caf::error&) { ask_listener(nullptr); });
    });
    return true;
  };
}

}  // namespace beryl::app
