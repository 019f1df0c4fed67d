#pragma once
// JSON values to text, as the server writes them into frames: numbers as JavaScript prints them
// and strings always valid UTF-8, so every text frame is one phoenix.js can parse and a WebSocket
// peer must accept (RFC 6455 §8.1). Pure: no CAF, no Asio.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace beryl::wire {

// Appends `s` as a JSON string literal (quotes and escapes) to `out`. A byte that does not start
// a well-formed UTF-8 character is written as U+FFFD, so bytes from outside JSON (a binary
// frame's fields, a URL, the application) cannot make a frame invalid.
void append_json_string(std::string& out, std::string_view s);

// Appends `d` as JavaScript's Number.prototype.toString writes it (ECMA-262 Number::toString):
// the shortest digits that read back as `d`, in plain notation from 1e-7 up to 1e21 and as
// d.ddde±N outside it (2.5, 0.1, 1e+21, 5e-324). Two departures, both to keep the output JSON:
// -0 is "-0" (JSON.parse reads it back as -0), and NaN and the infinities are "null", as
// JSON.stringify writes them.
void append_json_number(std::string& out, double d);

// Appends `v` as JSON text, strings and doubles as above.
void append_json(std::string& out, const boost::json::value& v);
void append_json(std::string& out, const boost::json::object& o);

}  // namespace beryl::wire
