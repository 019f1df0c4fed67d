#include "fuzz_support.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace beryl::fuzz {

std::uint64_t seed() {
  static const std::uint64_t value = [] {
    if (const char* env = std::getenv("BERYL_FUZZ_SEED"))
      return static_cast<std::uint64_t>(std::stoull(env));
    return std::uint64_t{std::random_device{}()} << 32 | std::random_device{}();
  }();
  return value;
}

int rounds(int base) {
  const char* env = std::getenv("BERYL_FUZZ_SCALE");
  return env ? base * std::max(1, std::atoi(env)) : base;
}

double rng::finite_double() {
  double d = std::numeric_limits<double>::infinity();
  while (!std::isfinite(d)) {
    auto bits = gen_();
    std::memcpy(&d, &bits, sizeof d);
  }
  return d;
}

std::string rng::bytes(std::size_t max_size) {
  std::string out(between(0, max_size), '\0');
  for (auto& c : out) c = static_cast<char>(byte());
  return out;
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string rng::utf8(std::size_t max_chars) {
  static constexpr std::string_view special = "\"\\/:*\b\f\n\r\t";
  std::string out;
  for (std::size_t n = between(0, max_chars); n > 0; --n) {
    switch (between(0, 5)) {
      case 0:
        out += special[between(0, special.size() - 1)];
        break;
      case 1:
        append_utf8(out, static_cast<std::uint32_t>(between(0, 0x1F)));
        break;
      case 2:
        append_utf8(out, static_cast<std::uint32_t>(between(0x80, 0xD7FF)));
        break;
      case 3:
        append_utf8(out, static_cast<std::uint32_t>(between(0xE000, 0x10FFFF)));
        break;
      default:
        out += static_cast<char>(between('a', 'z'));
        break;
    }
  }
  return out;
}

boost::json::object rng::object(int depth) {
  boost::json::object out;
  for (std::size_t n = between(0, depth > 0 ? 4 : 1); n > 0; --n) out[utf8(6)] = json(depth - 1);
  return out;
}

boost::json::value rng::json(int depth) {
  switch (between(0, depth > 0 ? 8 : 6)) {
    case 0:
      return nullptr;
    case 1:
      return chance(0.5);
    case 2:
      return static_cast<std::int64_t>(gen_());
    case 3:
      return gen_() | std::uint64_t{1} << 63;  // beyond int64
    case 4:
      return finite_double();
    case 5:
    case 6:
      return boost::json::string(utf8(12));
    case 7: {
      boost::json::array a;
      for (std::size_t n = between(0, 4); n > 0; --n) a.push_back(json(depth - 1));
      return a;
    }
    default:
      return object(depth);
  }
}

}  // namespace beryl::fuzz
