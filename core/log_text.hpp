#pragma once
// Client-controlled text (topics, events, socket ids, exception texts quoting input) made safe to
// put in a log line: escaped, so a client cannot start a line of its own or send a terminal
// escape sequence, and cut, so one message cannot write megabytes of log.
//
// Escaped: C0 controls and DEL (\n, \r, \t, else \xNN), backslash and both quotes (\\, \", \'),
// bytes that are not valid UTF-8 (\xNN), and the code points that terminals or log viewers take
// for control: C1 controls (U+0080-U+009F, e.g. CSI), the line and paragraph separators and the
// bidirectional overrides (\u202e...). Valid UTF-8 otherwise passes unchanged, never split.
// Cut: when the escaped text is longer than `limit` bytes, it ends with "…(N bytes)" (N the
// original size) and the whole result still fits in `limit` bytes.
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

namespace beryl {

inline constexpr std::size_t log_text_limit = 200;

// `limit` below log_text_min_limit is taken as log_text_min_limit: the cut mark must fit.
inline constexpr std::size_t log_text_min_limit = 40;

std::string log_text(std::string_view text, std::size_t limit = log_text_limit);

// What an exception says (its what(), or "unknown exception"), as it is: log_text() it.
std::string exception_text(const std::exception_ptr& ep);

}  // namespace beryl
