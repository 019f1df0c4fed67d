#include "core/log_text.hpp"

#include "core/utf8.hpp"

#include <algorithm>

namespace beryl {
namespace {

const char hex[] = "0123456789abcdef";

void append_byte_escape(std::string& out, unsigned char c) {
  out += "\\x";
  out += hex[c >> 4];
  out += hex[c & 0x0f];
}

void append_code_point_escape(std::string& out, char32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 0x0f];
}

// Appends the escaped form of the character at text[i]; returns the input bytes it used.
std::size_t escape_one(std::string_view text, std::size_t i, std::string& out) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c >= 0x20 && c < 0x7f) {
    if (c == '\\' || c == '"' || c == '\'') out += '\\';
    out += static_cast<char>(c);
    return 1;
  }
  switch (c) {
    case '\n':
      out += "\\n";
      return 1;
    case '\r':
      out += "\\r";
      return 1;
    case '\t':
      out += "\\t";
      return 1;
    default:
      break;
  }
  auto rest = text.substr(i);
  std::size_t length = c >= 0x80 ? utf8::sequence_length(rest) : 0;
  if (length == 0) {
    append_byte_escape(out, c);  // a control character, DEL, or a byte that is not UTF-8
    return 1;
  }
  if (auto cp = utf8::code_point(rest, length); utf8::acts_as_control(cp))
    append_code_point_escape(out, cp);
  else
    out.append(rest.substr(0, length));
  return length;
}

}  // namespace

std::string log_text(std::string_view text, std::size_t limit) {
  limit = std::max(limit, log_text_min_limit);
  const std::string mark = "\xe2\x80\xa6(" + std::to_string(text.size()) + " bytes)";
  const std::size_t budget = limit - mark.size();  // what a cut text keeps before its mark
  std::string out;
  out.reserve(std::min(text.size(), limit));  // a short plain text stays within the string
  std::size_t kept = 0;  // the output's size after the last whole character within budget
  for (std::size_t i = 0; i < text.size();) {
    i += escape_one(text, i, out);
    if (out.size() <= budget) kept = out.size();
    if (out.size() > limit) {  // too long: stop escaping, cut at a character boundary
      out.resize(kept);
      out += mark;
      return out;
    }
  }
  return out;
}

std::string exception_text(const std::exception_ptr& ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace beryl
