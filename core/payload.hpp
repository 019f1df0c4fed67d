#pragma once
// The data a Phoenix message carries: any JSON value from clients, a JSON object or raw bytes
// from the server (docs/protocol.md §2.4, §3). Pure: no CAF, no Asio.
#include <boost/json/value.hpp>

#include <string>
#include <variant>

namespace beryl {

// Raw bytes of a V2 binary frame's payload.
struct binary {
  std::string bytes;
  friend bool operator==(const binary& a, const binary& b) { return a.bytes == b.bytes; }
};

using payload = std::variant<boost::json::value, binary>;

// The JSON object inside a payload, or nullptr when it holds bytes or another JSON kind.
inline const boost::json::object* as_object(const payload& p) {
  auto* v = std::get_if<boost::json::value>(&p);
  return v ? v->if_object() : nullptr;
}

}  // namespace beryl
