#pragma once
// Standard-alphabet base64 (RFC 4648 §4). Pure.
#include <optional>
#include <string>
#include <string_view>

namespace beryl::base64 {

std::string encode(std::string_view bytes);

// Decodes with or without `=` padding; nullopt on any character outside the alphabet.
std::optional<std::string> decode(std::string_view text);

}  // namespace beryl::base64
