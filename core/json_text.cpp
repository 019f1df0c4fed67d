#include "core/json_text.hpp"

#include "core/utf8.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace json = boost::json;

namespace beryl::wire {
namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

template <class Int>
void append_integer(std::string& out, Int i) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, i);
  out.append(buffer, result.ptr);
}

void append_array(std::string& out, const json::array& a) {
  out += '[';
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i) out += ',';
    append_json(out, a[i]);
  }
  out += ']';
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  while (!s.empty()) {
    char c = s.front();
    auto u = static_cast<unsigned char>(c);
    std::size_t used = 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0xF];
        } else if (u < 0x80) {
          out += c;
        } else if (auto n = utf8::sequence_length(s)) {
          out.append(s.data(), n);
          used = n;
        } else {
          out += replacement_character;  // and go on with the next byte, as a decoder would
        }
    }
    s.remove_prefix(used);
  }
  out += '"';
}

void append_json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (d == 0) {
    out += std::signbit(d) ? "-0" : "0";
    return;
  }
  if (d < 0) out += '-';
  // The shortest round-trip digits, from to_chars in scientific form: "D.DDDDe±XX".
  char sci[32];
  auto end = std::to_chars(sci, sci + sizeof sci, std::abs(d), std::chars_format::scientific).ptr;
  std::string_view text(sci, static_cast<std::size_t>(end - sci));
  auto e = text.find('e');
  std::string digits(1, text[0]);
  if (e > 1) digits.append(text.substr(2, e - 2));  // after "D."
  auto exponent_text = text.substr(e + 1);
  if (exponent_text.front() == '+') exponent_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

  // ECMA-262 Number::toString with k digits and the value 0.DIGITS × 10^n.
  int k = static_cast<int>(digits.size());
  int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += n - 1 < 0 ? "e-" : "e+";
    append_integer(out, std::abs(n - 1));
  }
}

// Recursive: the values written here come from the exact JSON parser, which nests at most 32 deep
// (Boost's default), or from the application's own code.
void append_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      append_integer(out, v.get_int64());
      break;
    case json::kind::uint64:
      append_integer(out, v.get_uint64());
      break;
    case json::kind::double_:
      append_json_number(out, v.get_double());
      break;
    case json::kind::string:
      append_json_string(out, v.get_string());
      break;
    case json::kind::array:
      append_array(out, v.get_array());
      break;
    case json::kind::object:
      append_json(out, v.get_object());
      break;
  }
}

void append_json(std::string& out, const json::object& o) {
  out += '{';
  bool first = true;
  for (const auto& member : o) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, member.key());
    out += ':';
    append_json(out, member.value());
  }
  out += '}';
}

}  // namespace beryl::wire
