#include "app/runtime/metrics.hpp"

#include "actors/atoms.hpp"
#include "actors/cluster.hpp"
#include "core/telemetry.hpp"
#include "supervision/messages.hpp"
#include "supervision/registry.hpp"
#include "transport/listener.hpp"

#include <spdlog/fmt/fmt.h>
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
    sample_text(metric, labels, std::to_string(value));
  }
  void sample_text(std::string_view metric, const std::string& labels, const std::string& value) {
    text += metric;
    if (!labels.empty()) text += '{' + labels + '}';
    text += ' ' + value + '\n';
  }
  // Buckets cumulative, as the format wants them, then _sum (seconds) and _count.
  void histogram(const std::string& metric, const counters::histogram& h) {
    std::uint64_t below = 0;
    for (std::size_t b = 0; b < h.buckets.size(); ++b) {
      below += h.buckets[b];
      auto le = b < counters::bucket_bounds.size() ? fmt::format("{}", counters::bucket_bounds[b])
                                                   : std::string("+Inf");
      sample_text(metric + "_bucket", "le=\"" + le + '"', std::to_string(below));
    }
    sample_text(metric + "_sum", "", fmt::format("{}", static_cast<double>(h.sum_ns) / 1e9));
    sample_text(metric + "_count", "", std::to_string(h.count));
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

std::string prometheus_cluster_text(const json::value& cluster) {
  const auto* stats = cluster.if_object();
  if (!stats) return {};
  exposition out;
  out.header("beryl_cluster_peers_up", "gauge", "Peer nodes up (admitted, heartbeating).");
  out.sample("beryl_cluster_peers_up", "", number(*stats, "peers_up"));
  out.header("beryl_cluster_peers", "gauge", "Peer nodes known, up or down.");
  out.sample("beryl_cluster_peers", "", number(*stats, "peers"));
  out.header("beryl_cluster_forwarded_total", "counter",
             "Broadcasts sent to peer nodes (one message per node per broadcast).");
  out.sample("beryl_cluster_forwarded_total", "", number(*stats, "forwarded"));
  out.header("beryl_cluster_received_total", "counter", "Broadcasts received from peer nodes.");
  out.sample("beryl_cluster_received_total", "", number(*stats, "received"));
  out.header("beryl_cluster_replicated_total", "counter",
             "Presence replication messages sent to peer nodes.");
  out.sample("beryl_cluster_replicated_total", "", number(*stats, "replicated"));
  out.header("beryl_cluster_dropped_total", "counter",
             "Messages not sent to a peer whose unacknowledged bytes were at their cap.");
  out.sample("beryl_cluster_dropped_total", "", number(*stats, "dropped"));
  out.header("beryl_cluster_replication_lag_seconds", "gauge",
             "How late the slowest up peer's last presence replication message arrived.");
  out.sample_text(
      "beryl_cluster_replication_lag_seconds", "",
      fmt::format("{}", static_cast<double>(number(*stats, "replication_lag_ms")) / 1e3));
  return out.text;
}

std::string prometheus_text(const counters::totals& counts) {
  using counters::count;
  struct counted {
    count what;
    const char* metric;
    const char* help;
  };
  static constexpr counted counted_metrics[] = {
      {count::messages_in, "beryl_messages_in_total",
       "Client messages decoded (WebSocket and long-poll)."},
      {count::bytes_in, "beryl_received_bytes_total", "Bytes of those client messages."},
      {count::messages_out, "beryl_messages_out_total", "Frames queued to clients."},
      {count::bytes_out, "beryl_sent_bytes_total", "Bytes of those frames."},
      {count::broadcasts, "beryl_broadcasts_total",
       "Messages broadcast to a topic (presence_diffs apart)."},
      {count::presence_diffs, "beryl_presence_diffs_total", "presence_diffs sent to a topic."},
      {count::deliveries, "beryl_deliveries_total",
       "Broadcast and presence_diff frames handed to subscribers."},
      {count::joins, "beryl_joins_total", "Joins answered ok."},
      {count::leaves, "beryl_leaves_total", "Joined channels that ended, for any reason."},
  };
  exposition out;
  for (const auto& c : counted_metrics) {
    out.header(c.metric, "counter", c.help);
    out.sample(c.metric, "", counts[c.what]);
  }
  out.header("beryl_errors_total", "counter",
             "Refused joins, dropped messages, crashes and overflows, by kind.");
  for (std::size_t e = 0; e < counters::error_kinds; ++e) {
    auto kind = static_cast<counters::error>(e);
    out.sample("beryl_errors_total", "kind=\"" + std::string(counters::name(kind)) + '"',
               counts[kind]);
  }
  out.header("beryl_join_duration_seconds", "histogram",
             "From a join's arrival at its socket to its answer.");
  out.histogram("beryl_join_duration_seconds", counts[counters::latency::join]);
  out.header("beryl_handle_in_duration_seconds", "histogram", "One channel handle_in call.");
  out.histogram("beryl_handle_in_duration_seconds", counts[counters::latency::handle_in]);
  return out.text;
}

metrics_attachment::metrics_attachment() {
  telemetry::attach(
      "beryl.metrics", {telemetry::event::join, telemetry::event::handle_in_stop},
      [](telemetry::event e, const telemetry::measurements& m, const telemetry::metadata&) {
        counters::observe(
            e == telemetry::event::join ? counters::latency::join : counters::latency::handle_in,
            m.duration);
      });
}

metrics_attachment::~metrics_attachment() {
  telemetry::detach("beryl.metrics");
}

http_handler metrics_route(caf::actor_system& sys, std::function<caf::actor()> root) {
  return [&sys, root = std::move(root)](const http_request& req, const http_responder& respond) {
    if (req.path != "/metrics" || req.method != "GET") return false;
    auto tree = root();
    auto listener = caf::actor_cast<listener_actor>(supervision::lookup(sys, "listener"));
    auto cluster = caf::actor_cast<cluster_actor>(supervision::lookup(sys, "cluster"));
    auto answer = [respond](const json::value& tree_json, const json::value& listener_json,
                            const json::value& cluster_json) {
      respond({200,
               "text/plain; version=0.0.4; charset=utf-8",
               prometheus_text(tree_json, listener_json) + prometheus_cluster_text(cluster_json) +
                   (counters::enabled() ? prometheus_text(counters::read()) : std::string()),
               {{"cache-control", "no-store"}}});
    };
    // A short-lived actor asks, so that no network thread waits; whatever fails is left out.
    sys.spawn([=](caf::event_based_actor* self) {
      auto ask_cluster = [=](const json::value& tree_json, const json::value& listener_json) {
        if (!cluster) return answer(tree_json, listener_json, nullptr);
        self->request(cluster, ask_timeout, atoms::stats::value)
            .then([=](const json::value& stats) { answer(tree_json, listener_json, stats); },
                  [=](caf::error&) { answer(tree_json, listener_json, nullptr); });
      };
      auto ask_listener = [=](const json::value& tree_json) {
        if (!listener) return ask_cluster(tree_json, nullptr);
        self->request(listener, ask_timeout, atoms::stats::value)
            .then([=](const json::value& stats) { ask_cluster(tree_json, stats); },
                  [=](caf::error&) { ask_cluster(tree_json, nullptr); });
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
