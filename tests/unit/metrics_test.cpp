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
