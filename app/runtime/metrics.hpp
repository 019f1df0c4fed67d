#pragma once
// GET /metrics: Prometheus text for operators, built from what the server already counts: the
// supervision tree (restarts per child, channels started, crashed, active) and the listener
// (open connections, accepted). Nothing is counted on the per-message path for it.
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

http_handler metrics_route(caf::actor_system& sys, std::function<caf::actor()> root);

}  // namespace beryl::app
