#include "core/json_text.hpp"
#include "core/utf8.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

namespace json = boost::json;
using namespace beryl;

namespace {

std::string number(double d) {
  std::string out;
  wire::append_json_number(out, d);
  return out;
}

std::string quoted(std::string_view s) {
  std::string out;
  wire::append_json_string(out, s);
  return out;
}

}  // namespace

TEST_CASE("doubles are written as JavaScript prints them, not as Boost.JSON does (2.5E0)") {
  // Each expected text is what String(x) and JSON.stringify(x) give in JavaScript.
  CHECK(number(2.5) == "2.5");
  CHECK(number(-2.5) == "-2.5");
  CHECK(number(0.1) == "0.1");
  CHECK(number(0.1 + 0.2) == "0.30000000000000004");
  CHECK(number(100) == "100");
  CHECK(number(123.456) == "123.456");
  CHECK(number(1e20) == "100000000000000000000");
  CHECK(number(123456789012345680000.0) == "123456789012345680000");
  CHECK(number(1e21) == "1e+21");
  CHECK(number(1.5e300) == "1.5e+300");
  CHECK(number(0.000001) == "0.000001");
  CHECK(number(1e-7) == "1e-7");
  CHECK(number(-1.5e-7) == "-1.5e-7");
  CHECK(number(5e-324) == "5e-324");
  CHECK(number(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
  CHECK(number(0.0) == "0");
}

TEST_CASE("-0 keeps its sign, and NaN and the infinities, which JSON cannot carry, become null") {
  CHECK(number(-0.0) == "-0");
  CHECK(number(std::numeric_limits<double>::infinity()) == "null");
  CHECK(number(-std::numeric_limits<double>::infinity()) == "null");
  CHECK(number(std::nan("")) == "null");
  std::string out;
  wire::append_json(out, json::value(json::object{{"x", std::numeric_limits<double>::infinity()}}));
  CHECK(out == R"({"x":null})");
}

TEST_CASE("values are written compactly, integers exactly, doubles as JavaScript does") {
  json::value v =
      json::object{{"a", json::array{1, -2, 18446744073709551615ull, 2.5, true, nullptr}},
                   {"b", json::object{}},
                   {"c", "s"}};
  std::string out;
  wire::append_json(out, v);
  CHECK(out == R"({"a":[1,-2,18446744073709551615,2.5,true,null],"b":{},"c":"s"})");
}

TEST_CASE("strings are escaped, and bytes that are not UTF-8 become U+FFFD") {
  CHECK(quoted("a\"b\\c\nd\x01") == R"("a\"b\\c\nd\u0001")");
  CHECK(quoted("caf\xC3\xA9 \xF0\x9F\x98\x80") == "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(quoted("room:\xFF") == "\"room:" + fffd + "\"");
  CHECK(quoted("\xC3") == "\"" + fffd + "\"");                                     // truncated
  CHECK(quoted("\xC0\xAF") == "\"" + fffd + fffd + "\"");                          // overlong '/'
  CHECK(quoted("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");               // a surrogate
  CHECK(quoted("\xF4\x90\x80\x80x") == "\"" + fffd + fffd + fffd + fffd + "x\"");  // > U+10FFFF
}

TEST_CASE("UTF-8 validity follows RFC 3629") {
  CHECK(utf8::valid(""));
  CHECK(utf8::valid("plain"));
  CHECK(utf8::valid(
      "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
  CHECK_FALSE(utf8::valid("\x80"));
  CHECK_FALSE(utf8::valid("\xC1\xBF"));
  CHECK_FALSE(utf8::valid("\xE0\x9F\xBF"));
  CHECK_FALSE(utf8::valid("\xED\xA0\x80"));
  CHECK_FALSE(utf8::valid("\xF0\x8F\xBF\xBF"));
  CHECK_FALSE(utf8::valid("\xF4\x90\x80\x80"));
  CHECK_FALSE(utf8::valid("\xF5\x80\x80\x80"));
  CHECK_FALSE(utf8::valid("ok\xE2\x82"));
  CHECK(utf8::sequence_length("\xE2\x82\xAC!") == 3);
  CHECK(utf8::sequence_length("") == 0);
}
