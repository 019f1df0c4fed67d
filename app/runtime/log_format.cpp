#include "app/runtime/log_format.hpp"

#include "core/log_metadata.hpp"
#include "core/utf8.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string_view>

namespace beryl::app {
namespace {

const char hex[] = "0123456789abcdef";

void append(spdlog::memory_buf_t& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

void append_u_escape(spdlog::memory_buf_t& out, char32_t cp) {
  char text[] = {
      '\\', 'u', hex[(cp >> 12) & 0xf], hex[(cp >> 8) & 0xf], hex[(cp >> 4) & 0xf], hex[cp & 0xf]};
  out.append(text, text + sizeof text);
}

// `text` as the inside of a JSON string.
void append_escaped(spdlog::memory_buf_t& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '\n':
          append(out, "\\n");
          break;
        case '\r':
          append(out, "\\r");
          break;
        case '\t':
          append(out, "\\t");
          break;
        default:
          append_u_escape(out, c);  // other C0 controls and DEL
      }
      ++i;
      continue;
    }
    auto rest = text.substr(i);
    auto length = utf8::sequence_length(rest);
    if (length == 0) {
      append_u_escape(out, 0xfffd);  // a byte that is not UTF-8: the replacement character
      ++i;
      continue;
    }
    if (auto cp = utf8::code_point(rest, length); utf8::acts_as_control(cp))
      append_u_escape(out, cp);
    else
      append(out, rest.substr(0, length));
    i += length;
  }
}

// The longest start of `text` of at most `limit` bytes that does not split a UTF-8 sequence.
std::string_view cut(std::string_view text, std::size_t limit) {
  std::size_t end = 0;
  while (end < text.size()) {
    auto length = utf8::sequence_length(text.substr(end));
    if (length == 0) length = 1;  // escaped byte by byte
    if (end + length > limit) break;
    end += length;
  }
  return text.substr(0, end);
}

void append_field(spdlog::memory_buf_t& out, std::string_view key, std::string_view value,
                  std::size_t limit = 0) {
  append(out, ",\"");
  append(out, key);
  append(out, "\":\"");
  if (limit > 0 && value.size() > limit) {
    append_escaped(out, cut(value, limit));
    fmt::format_to(std::back_inserter(out), "\xe2\x80\xa6({} bytes)", value.size());
  } else {
    append_escaped(out, value);
  }
  out.push_back('"');
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

}  // namespace

log_format parse_log_format(const std::string& name) {
  if (name == "text") return log_format::text;
  if (name == "json") return log_format::json;
  throw std::invalid_argument("--log-format is text or json");
}

void json_log_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<milliseconds>(msg.time.time_since_epoch()).count();
  auto second = since_epoch / 1000;
  auto millis = since_epoch % 1000;
  if (millis < 0) {  // before 1970: floor, not truncate
    millis += 1000;
    second -= 1;
  }
  if (second != cached_second_) {
    auto t = static_cast<std::time_t>(second);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[32];
    auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    cached_prefix_.assign(text, n);
    cached_second_ = second;
  }
  append(dest, "{\"time\":\"");
  append(dest, cached_prefix_);
  fmt::format_to(std::back_inserter(dest), ".{:03}Z\",\"level\":\"", millis);
  append(dest, level_name(msg.level));
  append(dest, "\"");
  append_field(dest, "message", std::string_view(msg.payload.data(), msg.payload.size()));
  const auto& meta = current_log_metadata();
  if (!meta.socket_id.empty()) append_field(dest, "socket_id", meta.socket_id, field_limit);
  if (!meta.topic.empty()) append_field(dest, "topic", meta.topic, field_limit);
  if (!meta.remote_address.empty())
    append_field(dest, "remote_address", meta.remote_address, field_limit);
  if (!meta.child.empty()) append_field(dest, "child", meta.child, field_limit);
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> json_log_formatter::clone() const {
  return std::make_unique<json_log_formatter>();
}

void use_log_format(log_format format) {
  if (format == log_format::json)
    spdlog::set_formatter(std::make_unique<json_log_formatter>());
  else
    spdlog::set_pattern(text_log_pattern);
}

}  // namespace beryl::app
