#include "phoenix_frame.hpp"

#include <charconv>

namespace bench {
namespace {

constexpr auto npos = std::string_view::npos;

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// The end of `s` before trailing whitespace, not below `from`.
std::size_t trim_end(std::string_view s, std::size_t from, std::size_t end) {
  while (end > from && is_space(s[end - 1])) --end;
  return end;
}

// `i` is at an opening quote; returns the index just past the closing quote.
std::size_t skip_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return npos;
}

// Returns the index just past the JSON value that starts at `i`.
std::size_t skip_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return npos;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && s[i] != ',' && s[i] != ']' && s[i] != '}') ++i;
    return i;
  }
  int depth = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      i = skip_string(s, i);
      if (i == npos) return npos;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return npos;
}

// Reads one array element; strings are returned without quotes and null as empty.
std::size_t element(std::string_view s, std::size_t i, std::string_view& out) {
  i = skip_space(s, i);
  const std::size_t end = skip_value(s, i);
  if (end == npos) return npos;
  if (s[i] == '"') {
    out = s.substr(i + 1, end - i - 2);
  } else {
    out = {};
  }
  i = skip_space(s, end);
  if (i >= s.size() || (s[i] != ',' && s[i] != ']')) return npos;
  return i + 1;
}

// The index of the value of the first `"key":` in `json`, or npos.
std::size_t value_of(std::string_view json, std::string_view key) {
  std::size_t from = 0;
  while (true) {
    const std::size_t at = json.find(key, from);
    if (at == npos) return npos;
    from = at + key.size();
    if (at == 0 || json[at - 1] != '"' || from >= json.size() || json[from] != '"') continue;
    std::size_t i = skip_space(json, from + 1);
    if (i >= json.size() || json[i] != ':') continue;
    i = skip_space(json, i + 1);
    return i < json.size() ? i : npos;
  }
}

void append_ref(std::string& out, std::uint64_t ref) {
  if (ref == 0) {
    out += "null";
    return;
  }
  char digits[24];
  const auto res = std::to_chars(digits, digits + sizeof digits, ref);
  out += '"';
  out.append(digits, res.ptr);
  out += '"';
}

}  // namespace

bool scan_frame_head(std::string_view text, phx_frame& out) {
  std::size_t i = skip_space(text, 0);
  if (i >= text.size() || text[i] != '[') return false;
  ++i;
  std::string_view* fields[] = {&out.join_ref, &out.ref, &out.topic, &out.event};
  for (auto* field : fields) {
    i = element(text, i, *field);
    if (i == npos) return false;
  }
  out.payload = text.substr(skip_space(text, i));
  return true;
}

bool scan_frame(std::string_view text, phx_frame& out) {
  if (!scan_frame_head(text, out)) return false;
  // The payload is the last element: everything up to the closing bracket, taken without
  // walking it (presence states and diffs of big rooms are hundreds of kilobytes).
  const std::string_view rest = out.payload;
  std::size_t end = trim_end(rest, 0, rest.size());
  if (end <= 1 || rest[end - 1] != ']') return false;
  end = trim_end(rest, 0, end - 1);
  out.payload = rest.substr(0, end);
  return true;
}

std::optional<std::int64_t> find_int(std::string_view json, std::string_view key) {
  const std::size_t i = value_of(json, key);
  if (i == npos) return std::nullopt;
  std::int64_t value = 0;
  const auto res = std::from_chars(json.data() + i, json.data() + json.size(), value);
  if (res.ec != std::errc{}) return std::nullopt;
  return value;
}

std::optional<std::string_view> find_string(std::string_view json, std::string_view key) {
  const std::size_t i = value_of(json, key);
  if (i == npos || json[i] != '"') return std::nullopt;
  const std::size_t end = skip_string(json, i);
  if (end == npos) return std::nullopt;
  return json.substr(i + 1, end - i - 2);
}

std::uint64_t ref_number(std::string_view ref) {
  std::uint64_t value = 0;
  const auto res = std::from_chars(ref.data(), ref.data() + ref.size(), value);
  return res.ec == std::errc{} ? value : 0;
}

std::string encode_frame(std::uint64_t join_ref, std::uint64_t ref, std::string_view topic,
                         std::string_view event, std::string_view payload) {
  std::string out;
  out.reserve(32 + topic.size() + event.size() + payload.size());
  out += '[';
  append_ref(out, join_ref);
  out += ',';
  append_ref(out, ref);
  out += ",\"";
  out += topic;
  out += "\",\"";
  out += event;
  out += "\",";
  out += payload;
  out += ']';
  return out;
}

}  // namespace bench
