#pragma once
// The cap on what one tracked presence may hold (--max-presence-meta): its key plus its meta as
// JSON text. The tracker keeps every meta until its channel ends and sends it in every
// presence_state and presence_diff of the topic, so without a cap one client could park
// megabytes in each room it joins (100 rooms of 1 MB metas measured 540 MB). Pure.
#include <boost/json/object.hpp>

#include <cstddef>
#include <string_view>

namespace beryl::presence {

// 4 KB: Phoenix apps put a timestamp, a status, a device or a name in a meta (well under 500
// bytes), so 8x that is room to spare; while a room of 1,000 members at the cap already means
// a 4 MB presence_state for each joiner, and a connection at 100 channels holds at most 400 KB.
inline constexpr std::size_t default_max_meta_bytes = 4096;

// The reason a presence over the cap is refused with: the presence actor's error, and what
// channel::track and update_presence return.
inline constexpr const char* meta_too_large = "meta too large";

// Whether `key` and `meta` as JSON take at most `limit` bytes together (0: no limit). The meta
// is serialized in small chunks and measuring stops once over, so a huge meta costs no more to
// refuse than `limit` bytes of encoding.
bool within_size_limit(std::string_view key, const boost::json::object& meta, std::size_t limit);

}  // namespace beryl::presence
