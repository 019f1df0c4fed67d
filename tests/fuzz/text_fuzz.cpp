// Topic patterns against a regular-expression reference, base64 round trips, and the connect
// headers (subprotocols, origins) against random text.
#include "core/base64.hpp"
#include "core/handshake.hpp"
#include "core/topic_pattern.hpp"
#include "fuzz_support.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <stdexcept>

using namespace beryl;
using beryl::fuzz::rng;

namespace {

std::string random_text(rng& r, std::string_view alphabet, std::size_t max_size) {
  std::string out;
  for (std::size_t n = r.between(0, max_size); n > 0; --n)
    out += alphabet[r.between(0, alphabet.size() - 1)];
  return out;
}

// The pattern rules of topic_pattern.hpp as a regular expression: a `*` segment is one non-empty
// segment, a trailing `*` is any rest; nullopt when the pattern is invalid.
std::optional<std::regex> reference(const std::string& pattern) {
  if (pattern.empty()) return std::nullopt;
  std::vector<std::string> segments;
  std::size_t start = 0;
  for (;;) {
    auto colon = pattern.find(':', start);
    segments.push_back(pattern.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  std::string re;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& s = segments[i];
    bool last = i + 1 == segments.size();
    auto star = s.find('*');
    if (i > 0) re += ':';
    if (s == "*" && !last) {
      re += "([^:]+)";
    } else if (star == std::string::npos) {
      re += s;  // the alphabet below has no regex metacharacters but `*`
    } else if (last && star == s.size() - 1) {
      re += s.substr(0, star) + "(.*)";
    } else {
      return std::nullopt;
    }
  }
  return std::regex(re);
}

}  // namespace

TEST_CASE("topic patterns match, capture and refuse exactly like the reference") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 20);
  int matched = 0;
  for (int round = 0; round < fuzz::rounds(20000); ++round) {
    auto pattern = random_text(r, "ab:*", 7);
    auto topic = random_text(r, "ab:", 8);
    INFO("pattern '" << pattern << "' topic '" << topic << "'");
    auto expected = reference(pattern);
    if (!expected) {
      CHECK_THROWS_AS(topic_pattern{pattern}, std::invalid_argument);
      continue;
    }
    topic_pattern p(pattern);
    std::smatch found;
    auto got = p.match(topic);
    REQUIRE(got.has_value() == std::regex_match(topic, found, *expected));
    if (!got) continue;
    ++matched;
    std::vector<std::string> captures;
    for (std::size_t i = 1; i < found.size(); ++i) captures.push_back(found[i].str());
    CHECK(*got == captures);
  }
  CHECK(matched > 0);
}

TEST_CASE("base64 round trips any bytes, and decoding any text never crashes") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 21);
  for (int round = 0; round < fuzz::rounds(20000); ++round) {
    auto bytes = r.bytes(64);
    auto text = base64::encode(bytes);
    CHECK(text.size() % 4 == 0);
    CHECK(base64::decode(text) == bytes);
    auto noise = r.chance(0.5) ? r.bytes(40) : random_text(r, "AZaz09+/=-_ ", 40);
    if (auto decoded = base64::decode(noise))
      CHECK(base64::decode(base64::encode(*decoded)) == decoded);
  }
}

TEST_CASE("connect headers: a token offered with phoenix always comes back; noise never crashes") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 22);
  for (int round = 0; round < fuzz::rounds(10000); ++round) {
    auto token = r.bytes(40);
    auto encoded = base64::encode(token);
    while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();  // as phoenix.js sends it
    std::string header = "phoenix, base64url.bearer.phx." + encoded;
    if (r.chance(0.5))
      header = "base64url.bearer.phx." + encoded + "," + random_text(r, "abc ", 6) + ",phoenix";
    auto offered = handshake::parse_subprotocols(header);
    CHECK(offered.valid);
    CHECK(offered.auth_token == token);
    CHECK(offered.selected == std::string("phoenix"));

    auto noise = r.chance(0.5) ? r.bytes(60) : random_text(r, "phoenix.base64url,bearer =:/*", 60);
    CHECK_NOTHROW(handshake::parse_subprotocols(noise));
    auto origin = random_text(r, "htps:/.*examplco0-8", 30);
    try {
      handshake::origin_policy policy(random_text(r, "htps:/.*examplco0-8,", 30));
      CHECK_NOTHROW(policy.allows(origin, random_text(r, "[]:.0-9a-z", 20)));
      CHECK_NOTHROW(handshake::origin_policy().allows(origin, random_text(r, "[]:.0-9a-z", 20)));
    } catch (const std::invalid_argument&) {
      // a policy without a host is refused at startup; that is the documented answer
    }
  }
}
