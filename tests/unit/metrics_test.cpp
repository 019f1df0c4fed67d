#include "app/runtime/metrics.hpp"

#include <doctest/doctest.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

using beryl::app::prometheus_text;
namespace json = boost::json;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

TEST_CASE("metrics: restarts per child, channel counters per dynamic supervisor, connections") {
  auto tree = json::parse(R"({"name":"root","kind":"supervisor","restarts":0,"children":[
      {"name":"coordinator","kind":"worker","restarts":2},
      {"name":"channels","kind":"dynamic_supervisor","restarts":1,"started":7,"crashed":3,
       "exited":2,"active":2,"children":[{"name":"room:\"x\"\n","kind":"worker","restarts":0}]}]})");
  auto text = prometheus_text(tree, json::parse(R"({"port":4000,"connections":5,"accepted":9})"));
  CHECK(has_line(text, "beryl_up 1"));
  CHECK(has_line(text, R"(beryl_restarts_total{supervisor="",child="root"} 0)"));
  CHECK(has_line(text, R"(beryl_restarts_total{supervisor="root",child="coordinator"} 2)"));
  CHECK(has_line(text, R"(beryl_restarts_total{supervisor="root",child="channels"} 1)"));
  CHECK(has_line(text, R"(beryl_restarts_total{supervisor="channels",child="room:\"x\"\n"} 0)"));
  CHECK(has_line(text, R"(beryl_channels_started_total{supervisor="channels"} 7)"));
  CHECK(has_line(text, R"(beryl_channels_crashed_total{supervisor="channels"} 3)"));
  CHECK(has_line(text, R"(beryl_channels_exited_total{supervisor="channels"} 2)"));
  CHECK(has_line(text, R"(beryl_channels_active{supervisor="channels"} 2)"));
  CHECK(has_line(text, "beryl_connections 5"));
  CHECK(has_line(text, "beryl_accepted_total 9"));
  CHECK(has_line(text, "# TYPE beryl_restarts_total counter"));
}

TEST_CASE("metrics: counters as a snapshot holds them (unsigned), not only as parsed text") {
  json::object channels{{"name", "channels"},          {"kind", "dynamic_supervisor"},
                        {"restarts", std::size_t{4}},  {"started", std::uint64_t{12}},
                        {"crashed", std::uint64_t{1}}, {"exited", std::uint64_t{3}},
                        {"active", std::size_t{8}},    {"children", json::array{}}};
  json::object root{{"name", "root"},
                    {"kind", "supervisor"},
                    {"restarts", 0},
                    {"children", json::array{std::move(channels)}}};
  auto text = prometheus_text(json::value(std::move(root)), json::value(nullptr));
  CHECK(has_line(text, R"(beryl_restarts_total{supervisor="root",child="channels"} 4)"));
  CHECK(has_line(text, R"(beryl_channels_started_total{supervisor="channels"} 12)"));
  CHECK(has_line(text, R"(beryl_channels_active{supervisor="channels"} 8)"));
}

TEST_CASE("metrics without a tree or a listener: beryl_up 0 and nothing else made up") {
  auto text = prometheus_text(json::value(nullptr), json::value(nullptr));
  CHECK(has_line(text, "beryl_up 0"));
  CHECK(text.find("beryl_restarts_total") == std::string::npos);
  CHECK(text.find("beryl_connections") == std::string::npos);
}

TEST_CASE("metrics: the cluster's peers and forwarded messages; nothing when not clustering") {
  auto text = beryl::app::prometheus_cluster_text(json::parse(
      R"({"peers_up": 2, "peers": 3, "forwarded": 120, "received": 80, "replicated": 9,
          "dropped": 4, "replication_lag_ms": 250})"));
  CHECK(has_line(text, "# TYPE beryl_cluster_peers_up gauge"));
  CHECK(has_line(text, "beryl_cluster_peers_up 2"));
  CHECK(has_line(text, "beryl_cluster_peers 3"));
  CHECK(has_line(text, "# TYPE beryl_cluster_forwarded_total counter"));
  CHECK(has_line(text, "beryl_cluster_forwarded_total 120"));
  CHECK(has_line(text, "beryl_cluster_received_total 80"));
  CHECK(has_line(text, "beryl_cluster_replicated_total 9"));
  CHECK(has_line(text, "beryl_cluster_dropped_total 4"));
  CHECK(has_line(text, "# TYPE beryl_cluster_replication_lag_seconds gauge"));
  CHECK(has_line(text, "beryl_cluster_replication_lag_seconds 0.25"));
  CHECK(beryl::app::prometheus_cluster_text(json::value(nullptr)).empty());
}

TEST_CASE("metrics: the counters, errors by kind, and cumulative latency histograms") {
  beryl::counters::totals t;
  t.counts[static_cast<std::size_t>(beryl::counters::count::messages_in)] = 12;
  t.counts[static_cast<std::size_t>(beryl::counters::count::deliveries)] = 3000;
  t.errors[static_cast<std::size_t>(beryl::counters::error::unmatched_topic)] = 2;
  auto& joins = t.latencies[static_cast<std::size_t>(beryl::counters::latency::join)];
  joins.buckets[0] = 1;      // le 0.0001
  joins.buckets[3] = 2;      // le 0.001
  joins.buckets.back() = 1;  // +Inf only
  joins.count = 4;
  joins.sum_ns = 7'500'000'000;
  auto text = prometheus_text(t);
  CHECK(has_line(text, "# TYPE beryl_messages_in_total counter"));
  CHECK(has_line(text, "beryl_messages_in_total 12"));
  CHECK(has_line(text, "beryl_deliveries_total 3000"));
  CHECK(has_line(text, "beryl_joins_total 0"));
  CHECK(has_line(text, R"(beryl_errors_total{kind="unmatched_topic"} 2)"));
  CHECK(has_line(text, R"(beryl_errors_total{kind="slow_consumer"} 0)"));
  CHECK(has_line(text, "# TYPE beryl_join_duration_seconds histogram"));
  CHECK(has_line(text, R"(beryl_join_duration_seconds_bucket{le="0.0001"} 1)"));
  CHECK(has_line(text, R"(beryl_join_duration_seconds_bucket{le="0.0005"} 1)"));
  CHECK(has_line(text, R"(beryl_join_duration_seconds_bucket{le="0.001"} 3)"));
  CHECK(has_line(text, R"(beryl_join_duration_seconds_bucket{le="5"} 3)"));
  CHECK(has_line(text, R"(beryl_join_duration_seconds_bucket{le="+Inf"} 4)"));
  CHECK(has_line(text, "beryl_join_duration_seconds_sum 7.5"));
  CHECK(has_line(text, "beryl_join_duration_seconds_count 4"));
  CHECK(has_line(text, R"(beryl_handle_in_duration_seconds_bucket{le="+Inf"} 0)"));
}
