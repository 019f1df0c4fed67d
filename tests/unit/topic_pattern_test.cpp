#include "core/topic_pattern.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using beryl::topic_pattern;
using captures = std::vector<std::string>;

TEST_CASE("an exact pattern matches only its topic") {
  topic_pattern p("room:lobby");
  CHECK(p.match("room:lobby") == captures{});
  CHECK_FALSE(p.match("room:lobby2"));
  CHECK_FALSE(p.match("room:lob"));
  CHECK_FALSE(p.match("room"));
}

TEST_CASE("a trailing * matches any rest, colons included, and captures it") {
  topic_pattern p("room:*");
  CHECK(p.match("room:lobby") == captures{"lobby"});
  CHECK(p.match("room:a:b") == captures{"a:b"});
  CHECK(p.match("room:") == captures{""});
  CHECK_FALSE(p.match("room"));
  CHECK_FALSE(p.match("rooms:x"));
  CHECK(topic_pattern("room*").match("roomy") == captures{"y"});
  CHECK(topic_pattern("*").match("anything:at:all") == captures{"anything:at:all"});
}

TEST_CASE("a * segment matches exactly one non-empty segment") {
  topic_pattern p("document:*:ops");
  CHECK(p.match("document:42:ops") == captures{"42"});
  CHECK_FALSE(p.match("document:tenant-a:sub:ops"));
  CHECK_FALSE(p.match("document::ops"));
  CHECK_FALSE(p.match("document:42:ops:x"));
  CHECK_FALSE(p.match("document:42"));
  CHECK(topic_pattern("a:*:b:*").match("a:1:b:2:3") == captures{"1", "2:3"});
  CHECK(topic_pattern("*:x").match("y:x") == captures{"y"});
}

TEST_CASE("a * inside a segment is a configuration error") {
  CHECK_THROWS_AS(topic_pattern("ro*om:x"), std::invalid_argument);
  CHECK_THROWS_AS(topic_pattern("room*:x"), std::invalid_argument);
  CHECK_THROWS_AS(topic_pattern(""), std::invalid_argument);
}
