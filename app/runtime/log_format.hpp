#pragma once
// How spdlog's lines look (`--log-format`): text for people, as it always was, or JSON for log
// pipelines: one object a line with the time, the level, the message and the metadata the code
// that wrote the line set for it (core/log_metadata.hpp: socket id, topic, remote address,
// child), each key only when known. docs/architecture.md §5 describes the fields.
#include <spdlog/formatter.h>

#include <cstddef>
#include <memory>
#include <string>

namespace beryl::app {

enum class log_format { text, json };

// "text" or "json"; anything else throws std::invalid_argument.
log_format parse_log_format(const std::string& name);

// The text format's spdlog pattern.
inline constexpr const char* text_log_pattern = "[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v";

// {"time":"2025-01-31T12:00:00.123Z","level":"warn","message":"...","socket_id":"...",
//  "topic":"...","remote_address":"...","child":"..."} and a newline. Strings are JSON-escaped:
// control characters, DEL, the Unicode line separators and bidirectional marks as \uXXXX, bytes
// that are not UTF-8 as \ufffd, so no text can end the line or start another. A metadata value
// over `field_limit` bytes is cut at a character boundary and ends with "…(N bytes)".
class json_log_formatter final : public spdlog::formatter {
 public:
  static constexpr std::size_t field_limit = 200;

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  // The time's text up to the seconds, for the second it was last made for.
  long long cached_second_ = -1;
  std::string cached_prefix_;
};

// Makes every sink of the default logger write `format`.
void use_log_format(log_format format);

}  // namespace beryl::app
