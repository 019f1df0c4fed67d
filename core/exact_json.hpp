#pragma once
// JSON text to a boost::json::value, like boost::json::parse, but with every double correctly
// rounded. Boost.JSON 1.81 (Debian 12's) rounds about one double in eight wrongly when it has 17
// significant digits, as JavaScript writes them, so a payload relayed through the server could
// come out changed in its last digit. Pure: no CAF, no Asio.
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <string_view>

namespace beryl {

// The value of `text` (one JSON document, surrounding whitespace allowed); sets `ec` and returns
// null on invalid JSON, invalid UTF-8, trailing data or a number beyond the range of a double
// (1e400: JSON has no infinity). A number too small for a double reads as (signed) zero.
boost::json::value parse_exact_json(std::string_view text, boost::system::error_code& ec);

}  // namespace beryl
