// The JSON text the server writes: doubles in JavaScript's form that read back exactly, strings
// that are UTF-8 whatever bytes they were given, and numbers beyond a double's range refused on
// the way in instead of going out as Infinity.
#include "core/exact_json.hpp"
#include "core/json_serializer.hpp"
#include "core/json_text.hpp"
#include "core/utf8.hpp"
#include "fuzz_support.hpp"

#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

namespace json = boost::json;
using namespace beryl;
using beryl::fuzz::rng;

namespace {

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The significant digits of a number's text: sign, point, exponent and padding zeros dropped.
std::string significant_digits(std::string_view text) {
  if (auto e = text.find('e'); e != std::string_view::npos) text = text.substr(0, e);
  std::string digits;
  for (char c : text)
    if (c >= '0' && c <= '9') digits += c;
  digits.erase(0, digits.find_first_not_of('0'));
  digits.erase(digits.find_last_not_of('0') + 1);
  return digits;
}

double as_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.as_double();
}

}  // namespace

TEST_CASE("doubles are written as JavaScript prints them and read back exactly") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 30);
  for (int round = 0; round < fuzz::rounds(20000); ++round) {
    // Random bits, or a short decimal (the numbers people write) scaled by a power of ten.
    double d = r.chance(0.5) ? r.finite_double()
                             : static_cast<double>(r.between(0, 1'000'000)) *
                                   std::pow(10.0, static_cast<int>(r.between(0, 60)) - 30);
    std::string text;
    wire::append_json_number(text, d);
    INFO("round " << round << ": " << text);

    double back = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
    REQUIRE(ec == std::errc());
    CHECK(end == text.data() + text.size());
    CHECK(same_bits(back, d));

    // JavaScript's layout: plain from 1e-6 up to 1e21, d.ddde±N outside, never a "+" mantissa,
    // a leading zero or a trailing point.
    double magnitude = std::abs(d);
    bool exponent_form = d != 0 && (magnitude >= 1e21 || magnitude < 1e-6);
    CHECK((text.find('e') != std::string::npos) == exponent_form);
    CHECK(text.find('E') == std::string::npos);
    CHECK(text.back() != '.');
    auto unsigned_text = std::string_view(text).substr(text.front() == '-' ? 1 : 0);
    CHECK((unsigned_text.size() == 1 || unsigned_text[0] != '0' || unsigned_text[1] == '.'));

    // The shortest digits that read back: as many as std::to_chars's shortest form has.
    char shortest[32];
    auto shortest_end =
        std::to_chars(shortest, shortest + sizeof shortest, d, std::chars_format::scientific).ptr;
    CHECK(significant_digits(text) ==
          significant_digits(
              std::string_view(shortest, static_cast<std::size_t>(shortest_end - shortest))));

    boost::system::error_code json_ec;
    auto parsed = parse_exact_json(text, json_ec);
    REQUIRE_FALSE(json_ec);
    CHECK(as_double(parsed) == d);
  }
}

TEST_CASE("any bytes in a string are written as a JSON string that is UTF-8") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 31);
  for (int round = 0; round < fuzz::rounds(20000); ++round) {
    INFO("round " << round);
    std::string s = r.chance(0.5) ? r.bytes(40) : r.utf8(20);
    if (!s.empty() && r.chance(0.3)) s[r.between(0, s.size() - 1)] = static_cast<char>(r.byte());
    std::string out;
    wire::append_json_string(out, s);
    CHECK(utf8::valid(out));
    boost::system::error_code ec;
    auto parsed = parse_exact_json(out, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(parsed.is_string());
    if (utf8::valid(s)) CHECK(parsed.get_string() == s);
  }
}

TEST_CASE("a client number decodes when a double holds it, and only then; what is sent is JSON") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 32);
  static const std::string vsn = "2.0.0";
  const serializer& v2 = *wire::serializer_for_vsn(&vsn);
  int refused = 0;
  for (int round = 0; round < fuzz::rounds(5000); ++round) {
    std::string literal = (r.chance(0.5) ? "-" : "") + std::to_string(r.between(1, 99999)) + "e" +
                          std::to_string(static_cast<int>(r.between(0, 800)) - 400);
    INFO("round " << round << ": " << literal);
    double expected = 0;
    auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), expected);
    bool overflows =
        ec == std::errc::result_out_of_range && literal.find("e-") == std::string::npos;

    auto decoded = v2.decode(R"([null,"1","t","e",{"x":)" + literal + "}]", false);
    REQUIRE(std::holds_alternative<message>(decoded) != overflows);
    if (overflows) {
      ++refused;
      continue;
    }
    const auto& body = std::get<message>(decoded).body;
    auto f = v2.broadcast("t", "e", body);
    boost::system::error_code json_ec;
    auto sent = parse_exact_json(*f.bytes, json_ec);
    REQUIRE_FALSE(json_ec);
    double x = as_double(sent.as_array()[4].as_object().at("x"));
    if (ec == std::errc::result_out_of_range) expected = literal[0] == '-' ? -0.0 : 0.0;
    CHECK(x == expected);
  }
  CHECK(refused > 0);
}
