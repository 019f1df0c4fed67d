#pragma once
// Base64: the standard alphabet (RFC 4648 §4) and the URL-safe one without padding (§5).
#include <optional>
#include <string>
#include <string_view>

namespace beryl::base64 {

std::string encode(std::string_view bytes);

// URL-safe alphabet (`-`, `_`), no `=` padding: presence refs.
std::string encode_url(std::string_view bytes);

// Decodes with or without `=` padding; nullopt on any character outside the alphabet.
std::optional<std::string> decode(std::string_view text);

}  // namespace beryl::base64
