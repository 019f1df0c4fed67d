#pragma once
// GET /metrics: Prometheus text for operators: the supervision tree (restarts per child, channels
// started, crashed, active), the listener (open connections, accepted), and the per-thread
// counters (core/counters.hpp), the cluster (peers up, messages forwarded): messages and bytes in
// and out, broadcasts, deliveries, joins, leaves, errors by kind, and histograms of join latency
// and handle_in duration, which telemetry events feed (attach_metrics).
#include "core/counters.hpp"
#include "core/http.hpp"

#include <boost/json/value.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <string>

namespace beryl::app {

// The exposition text for a supervision snapshot (the value snapshot_atom answers, which
// GET /debug/supervision serializes) and the listener's stats ({"connections", "accepted"}),
// each null when unknown. Pure: unit-tested alone.
std::string prometheus_text(const boost::json::value& tree, const boost::json::value& listener);
// The exposition text of the cluster actor's stats ({"peers_up", "peers", "forwarded",
// "received", "replicated", "dropped", "replication_lag_ms"}); empty when null (not clustering).
// Pure: unit-tested alone.
std::string prometheus_cluster_text(const boost::json::value& cluster);
// The exposition text of the counters. Pure: unit-tested alone.
std::string prometheus_text(const counters::totals& counts);

// Feeds the latency histograms from the join and handle_in.stop telemetry events, until the
// returned handle is destroyed. Without it (--no-metrics) handle_in is not timed at all.
class metrics_attachment {
 public:
  metrics_attachment();
  ~metrics_attachment();
  metrics_attachment(const metrics_attachment&) = delete;
  metrics_attachment& operator=(const metrics_attachment&) = delete;
};

http_handler metrics_route(caf::actor_system& sys, std::function<caf::actor()> root);

}  // namespace beryl::app
