#include "core/exact_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <string>

namespace beryl {
namespace {

namespace json = boost::json;

// Builds the value on a value_stack, as boost::json::parser does; only doubles differ: they are
// converted again from their text, which std::from_chars rounds correctly.
struct exact_handler {
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  // `temp`: where the stack of unfinished values starts, so that small documents need no heap.
  exact_handler(unsigned char* temp, std::size_t size) : values(json::storage_ptr(), temp, size) {}

  json::value_stack values;
  std::string number;  // the text of a number split over several calls

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    values.push_array(n);
    return true;
  }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    values.push_object(n);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    values.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    values.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    values.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    values.push_key(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number.clear();
    values.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number.clear();
    values.push_uint64(u);
    return true;
  }
  bool on_double(double approximate, json::string_view s, json::error_code& ec) {
    number.append(s.data(), s.size());
    double exact = 0;
    auto [end, err] = std::from_chars(number.data(), number.data() + number.size(), exact);
    bool whole = end == number.data() + number.size();
    if (err == std::errc::result_out_of_range && whole) {
      // Beyond the largest double (1e400): no JSON value can carry it (Boost would give
      // Infinity, which is not JSON), so the document is undecodable. Below the smallest
      // denormal (1e-400) it rounds to zero, as JavaScript's JSON.parse reads it.
      if (std::abs(approximate) >= 1) {
        ec = json::error::exponent_overflow;
        return false;
      }
      exact = number.front() == '-' ? -0.0 : 0.0;
      err = std::errc();
    }
    values.push_double(err == std::errc() && whole ? exact : approximate);
    number.clear();
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    values.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    values.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

json::value parse_exact_json(std::string_view text, boost::system::error_code& ec) {
  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  json::basic_parser<exact_handler> parser(json::parse_options{}, temp, sizeof temp);
  parser.handler().values.reset();
  auto used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  return parser.handler().values.release();
}

}  // namespace beryl
