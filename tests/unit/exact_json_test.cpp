#include "core/exact_json.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

namespace json = boost::json;
using beryl::parse_exact_json;

namespace {

json::value exact(std::string_view text) {
  boost::system::error_code ec;
  auto v = parse_exact_json(text, ec);
  REQUIRE_FALSE(ec);
  return v;
}

bool refused(std::string_view text) {
  boost::system::error_code ec;
  parse_exact_json(text, ec);
  return static_cast<bool>(ec);
}

}  // namespace

TEST_CASE("doubles come back exactly as written, where Boost.JSON 1.81 is off by one digit") {
  // Boost's own parser reads this as -8.121604636156174E276.
  const char* text = "-8.121604636156175E276";
  CHECK(exact(text).as_double() == std::strtod(text, nullptr));
  CHECK(exact("0.30000000000000004").as_double() == 0.1 + 0.2);
  CHECK(exact("[1e-400, 5e-324]") == json::array{0.0, 5e-324});

  // Shortest round-trip text of random doubles (what JavaScript's JSON.stringify writes).
  std::mt19937_64 gen(42);
  int boost_wrong = 0;
  for (int i = 0; i < 20000; ++i) {
    double d = std::uniform_real_distribution<double>(-180, 180)(gen);
    auto shortest = json::serialize(json::value(d));
    REQUIRE(exact(shortest).as_double() == d);
    boost_wrong += json::parse(shortest).as_double() != d;
  }
  MESSAGE("Boost.JSON's own parser got " << boost_wrong << " of 20000 wrong");
}

TEST_CASE("everything else is parsed like boost::json::parse") {
  const char* text =
      R"( {"a":[1,-2,18446744073709551615,true,false,null,"s\u00e9\n"],"b":{"c":{}},"d":[]} )";
  CHECK(exact(text) == json::parse(text));
  CHECK(exact("9223372036854775807").is_int64());
  CHECK(exact("9223372036854775808").is_uint64());
  CHECK(refused(""));
  CHECK(refused("{"));
  CHECK(refused("[1,]"));
  CHECK(refused("{} {}"));                                        // trailing data
  CHECK(refused("\"\xff\""));                                     // invalid UTF-8
  CHECK(refused(std::string(100, '[') + std::string(100, ']')));  // deeper than 32
}

TEST_CASE("a number beyond a double's range is refused (JSON has no Infinity); below it, zero") {
  CHECK(refused("1e400"));
  CHECK(refused("-1e400"));
  CHECK(refused(R"([1, {"x": 1e400}])"));
  CHECK(refused("1" + std::string(400, '0')));
  CHECK(refused("1.7976931348623159e308"));  // rounds up past the largest double
  CHECK(exact("1.7976931348623157e308").as_double() == std::numeric_limits<double>::max());
  CHECK(exact("2e-324").as_double() == 0.0);
  CHECK(std::signbit(exact("-1e-400").as_double()));
}
