#pragma once
// UTF-8 validity (RFC 3629): what a WebSocket text frame must hold (RFC 6455 §8.1), so the server
// checks the text fields it did not parse as JSON (binary frames' topic, event and refs) and never
// writes anything else into a text frame. Pure: no CAF, no Asio.
#include <cstddef>
#include <string_view>

namespace beryl::utf8 {

// The length (1-4) of the well-formed character `s` starts with, or 0 when it does not start with
// one: a stray continuation byte, a truncated sequence, an overlong form, a surrogate (U+D800 to
// U+DFFF) or a code point above U+10FFFF. 0 for an empty `s`.
std::size_t sequence_length(std::string_view s);

bool valid(std::string_view s);

// The code point of the well-formed character of `length` bytes `s` starts with (as
// sequence_length measured it).
char32_t code_point(std::string_view s, std::size_t length);

// Code points that are not ASCII yet act as controls: C1 (a terminal may read U+009B as an escape
// sequence), the Unicode line breaks some log viewers split on, and the bidirectional marks and
// overrides that can make a line read differently from what it holds. Log writers escape them.
bool acts_as_control(char32_t cp);

}  // namespace beryl::utf8
