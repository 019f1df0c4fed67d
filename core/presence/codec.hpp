#pragma once
// Node-to-node JSON text for the presence CRDT's snapshots and deltas (docs/presence.md §3.6).
// Pure. Decoding is strict and returns nothing on malformed input; for any value x,
// encode(decode(encode(x))) == encode(x).
#include "core/exact_json.hpp"
#include "core/presence/state.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace beryl::presence {

std::string encode(const snapshot& s);
std::string encode(const delta& d);
std::optional<snapshot> decode_snapshot(std::string_view json);
std::optional<delta> decode_delta(std::string_view json);

// The same documents as JSON values, for messages that embed them (replication.hpp).
boost::json::value to_json(const replica_id& replica);  // [node, vsn]
boost::json::value to_json(const clock_map& clocks);
boost::json::value to_json(const snapshot& s);
boost::json::value to_json(const delta& d);

// Their strict readers: each throws (some std::exception) on anything else.
replica_id replica_from_json(const boost::json::value& v);
clock_map clocks_from_json(const boost::json::value& v);
snapshot snapshot_from_json(const boost::json::value& v);
delta delta_from_json(const boost::json::value& v);
// `v` as an object with exactly `keys` as members.
const boost::json::object& object_with(const boost::json::value& v,
                                       std::initializer_list<std::string_view> keys);

// `read(value)` for one JSON document; nothing when `text` is not one or `read` throws.
template <typename Read>
auto read_json(std::string_view text, Read read)
    -> std::optional<decltype(read(std::declval<const boost::json::value&>()))> {
  boost::system::error_code ec;
  auto parsed = parse_exact_json(text, ec);
  if (ec) return std::nullopt;
  try {
    return read(parsed);
  } catch (const std::exception&) {
    return std::nullopt;  // wrong kinds, sizes or numbers anywhere
  }
}

}  // namespace beryl::presence
