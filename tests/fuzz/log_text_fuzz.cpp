// log_text against random bytes, random UTF-8 and log-forging fragments: the result never holds a
// control character or invalid UTF-8, always fits its limit, is the input itself for plain short
// text, and otherwise reads back (unescaped) as the input or, when cut, as a prefix of it.
#include "core/log_text.hpp"
#include "fuzz_support.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace beryl;
using beryl::fuzz::rng;

namespace {

const std::string cut_mark = "\xe2\x80\xa6(";

std::string random_input(rng& r) {
  static const std::string_view fragments[] = {"\n[2025-01-01 00:00:00.000] [critical] ",
                                               "\x1b[31m",
                                               "\r",
                                               "\\n",
                                               "\"",
                                               "'",
                                               "\xc2\x9b",
                                               "\xe2\x80\xa8",
                                               "\xe2\x80\xae",
                                               "\xff",
                                               "\xe2\x82",
                                               "room:",
                                               "\xf0\x9f\x98\x80"};
  std::string out;
  for (std::size_t parts = r.between(0, 8); parts > 0; --parts) {
    switch (r.between(0, 3)) {
      case 0:
        out += r.bytes(r.chance(0.2) ? 600 : 40);
        break;
      case 1:
        out += r.utf8(r.chance(0.2) ? 300 : 30);
        break;
      case 2:
        out += fragments[r.between(0, std::size(fragments) - 1)];
        break;
      default:
        out += std::string(r.between(0, 300), static_cast<char>(r.between('a', 'z')));
    }
  }
  return out;
}

// Decodes one UTF-8 sequence at s[i] the slow, obvious way: nullopt unless it is valid.
std::optional<std::pair<char32_t, std::size_t>> decode(const std::string& s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  std::size_t n = b(i) < 0x80         ? 1
                  : b(i) >> 5 == 0x6  ? 2
                  : b(i) >> 4 == 0xe  ? 3
                  : b(i) >> 3 == 0x1e ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return std::nullopt;
  char32_t cp = n == 1 ? b(i) : b(i) & (0x7f >> n);
  for (std::size_t k = 1; k < n; ++k) {
    if (b(i + k) >> 6 != 0x2) return std::nullopt;
    cp = cp << 6 | (b(i + k) & 0x3f);
  }
  static const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  return std::pair{cp, n};
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// The input back from log_text's escapes; nullopt when a backslash starts no escape or a quote
// stands unescaped.
std::optional<std::string> unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"' || s[i] == '\'') return std::nullopt;
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    char e = s[i];
    if (e == '\\' || e == '"' || e == '\'') {
      out += e;
    } else if (e == 'n' || e == 'r' || e == 't') {
      out += e == 'n' ? '\n' : e == 'r' ? '\r' : '\t';
    } else if (e == 'x' || e == 'u') {
      std::size_t digits = e == 'x' ? 2 : 4;
      auto hex = s.substr(i + 1, digits);
      if (hex.size() != digits || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
        return std::nullopt;
      auto value = std::stoul(hex, nullptr, 16);
      if (e == 'x')
        out += static_cast<char>(value);
      else
        append_utf8(out, static_cast<char32_t>(value));
      i += digits;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("log_text: no control character or invalid UTF-8 out, bounded, reversible") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 50);
  for (int round = 0; round < fuzz::rounds(3000); ++round) {
    INFO("round " << round);
    auto text = random_input(r);
    std::size_t limit = r.chance(0.5) ? log_text_limit : r.between(1, 400);
    auto out = log_text(text, limit);
    INFO("input size " << text.size() << ", limit " << limit << ", output " << out);

    REQUIRE(out.size() <= std::max(limit, log_text_min_limit));
    for (std::size_t i = 0; i < out.size();) {
      auto decoded = decode(out, i);
      REQUIRE(decoded);
      REQUIRE_FALSE(is_control(decoded->first));
      i += decoded->second;
    }

    auto whole = log_text(text, std::string::npos / 2);  // never cut
    bool cut = out != whole;
    if (cut) {
      auto mark = out.rfind(cut_mark);
      REQUIRE(mark != std::string::npos);
      CHECK(out.substr(mark) == cut_mark + std::to_string(text.size()) + " bytes)");
      auto kept = out.substr(0, mark);
      CHECK(whole.compare(0, kept.size(), kept) == 0);
      auto back = unescape(kept);
      REQUIRE(back);
      CHECK(text.compare(0, back->size(), *back) == 0);
    } else {
      auto back = unescape(out);
      REQUIRE(back);
      CHECK(*back == text);
    }

    bool plain = true;
    for (unsigned char c : text)
      plain = plain && c >= 0x20 && c < 0x7f && c != '\\' && c != '"' && c != '\'';
    if (plain && text.size() <= std::max(limit, log_text_min_limit)) CHECK(out == text);
  }
}
