#pragma once
// Node-to-node JSON text for the presence CRDT's snapshots and deltas (docs/presence.md §3.6).
// Pure. Decoding is strict and returns nothing on malformed input; for any value x,
// encode(decode(encode(x))) == encode(x).
#include "core/presence/state.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace beryl::presence {

std::string encode(const snapshot& s);
std::string encode(const delta& d);
std::optional<snapshot> decode_snapshot(std::string_view json);
std::optional<delta> decode_delta(std::string_view json);

}  // namespace beryl::presence
