// Phoenix V2 JSON frames: [join_ref, ref, topic, event, payload].
// Incoming frames are scanned for their five elements instead of being parsed into a DOM:
// the generator handles hundreds of thousands of frames per second on one core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

struct phx_frame {
  std::string_view join_ref;  // string contents without quotes; empty when null
  std::string_view ref;       // likewise
  std::string_view topic;
  std::string_view event;
  std::string_view payload;  // the raw JSON text of the payload (the rest of the array)
};

// Returns false when `text` is not a V2 array of at least five elements.
bool scan_frame(std::string_view text, phx_frame& out);
// The same for the start of a frame: the payload is whatever follows the event.
bool scan_frame_head(std::string_view text, phx_frame& out);

// The integer value of `"key": <int>` in a JSON object (the first such key at any depth; our
// own payloads are flat).
std::optional<std::int64_t> find_int(std::string_view json, std::string_view key);
// Likewise for `"key": "<string>"`; the contents are returned without unescaping.
std::optional<std::string_view> find_string(std::string_view json, std::string_view key);

// Parses a ref such as "42"; 0 when it is not a number (our refs start at 1).
std::uint64_t ref_number(std::string_view ref);

// Encodes a frame; a ref of 0 is written as null. Topic and event must need no escaping.
std::string encode_frame(std::uint64_t join_ref, std::uint64_t ref, std::string_view topic,
                         std::string_view event, std::string_view payload);

}  // namespace bench
