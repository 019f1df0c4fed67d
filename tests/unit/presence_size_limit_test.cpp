#include "core/presence/size_limit.hpp"

#include <doctest/doctest.h>
#include <boost/json/serialize.hpp>

#include <string>

namespace json = boost::json;
using beryl::presence::within_size_limit;

TEST_CASE("presence size limit: key plus meta as JSON, exactly at the limit fits") {
  json::object meta{{"online_at", 1764684000123}, {"status", "away"}};
  auto size = std::string("alice").size() + json::serialize(meta).size();
  CHECK(within_size_limit("alice", meta, size));
  CHECK_FALSE(within_size_limit("alice", meta, size - 1));
  CHECK(within_size_limit("", json::object{}, 2));  // "{}"
  CHECK_FALSE(within_size_limit(std::string(10, 'k'), json::object{}, 9));
}

TEST_CASE("presence size limit: escapes and nesting count as encoded, 0 means no limit") {
  json::object meta{{"s", "\"\n\x01"}, {"deep", json::object{{"a", json::array{1, 2, "three"}}}}};
  auto size = json::serialize(meta).size();
  CHECK(within_size_limit("", meta, size));
  CHECK_FALSE(within_size_limit("", meta, size - 1));
  json::object huge{{"s", std::string(5'000'000, 'x')}};
  CHECK_FALSE(within_size_limit("k", huge, 4096));
  CHECK(within_size_limit("k", huge, 0));
}
