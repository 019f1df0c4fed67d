#pragma once
// Topic patterns for routing joins to channels. Pure: no CAF, no Asio.
//   "room:lobby"      exact
//   "room:*"          trailing `*`: any topic with that prefix, the rest captured
//   "document:*:ops"  a `*` segment matches exactly one non-empty `:`-separated segment
// A `*` anywhere else is a configuration error (std::invalid_argument).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace beryl {

class topic_pattern {
 public:
  explicit topic_pattern(std::string_view pattern);

  // The captured parts (one per `*`, in order) when `topic` matches, nothing otherwise.
  std::optional<std::vector<std::string>> match(std::string_view topic) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> segments_;  // literal segments, or "*" for one-segment wildcards
  bool trailing_prefix_ = false;       // the last segment ends with `*`
};

}  // namespace beryl
