#include "core/topic_pattern.hpp"

#include <stdexcept>

namespace beryl {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace

topic_pattern::topic_pattern(std::string_view pattern) : text_(pattern) {
  if (pattern.empty()) throw std::invalid_argument("empty topic pattern");
  auto parts = split(pattern, ':');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto part = parts[i];
    auto star = part.find('*');
    bool last = i + 1 == parts.size();
    if (star == std::string_view::npos || part == "*") {
      if (part == "*" && last) {
        trailing_prefix_ = true;
        segments_.emplace_back("");  // the prefix before the `*` is empty
      } else {
        segments_.emplace_back(part);
      }
      continue;
    }
    if (last && star == part.size() - 1) {
      trailing_prefix_ = true;
      segments_.emplace_back(part.substr(0, part.size() - 1));
      continue;
    }
    throw std::invalid_argument("topic pattern '" + text_ +
                                "': `*` must be a whole segment or the last character");
  }
}

std::optional<std::vector<std::string>> topic_pattern::match(std::string_view topic) const {
  std::vector<std::string> captures;
  std::size_t pos = 0;
  std::size_t fixed = trailing_prefix_ ? segments_.size() - 1 : segments_.size();
  for (std::size_t i = 0; i < fixed; ++i) {
    bool last = i + 1 == segments_.size();
    auto end = topic.find(':', pos);
    if (last) {
      // The last segment runs to the end of the topic.
      if (end != std::string_view::npos) return std::nullopt;
      end = topic.size();
    } else if (end == std::string_view::npos) {
      return std::nullopt;
    }
    auto segment = topic.substr(pos, end - pos);
    if (segments_[i] == "*") {
      if (segment.empty()) return std::nullopt;
      captures.emplace_back(segment);
    } else if (segment != segments_[i]) {
      return std::nullopt;
    }
    pos = end + 1;
  }
  if (trailing_prefix_) {
    const auto& prefix = segments_.back();
    if (pos > topic.size()) return std::nullopt;
    auto rest = topic.substr(pos);
    if (rest.substr(0, prefix.size()) != prefix) return std::nullopt;
    captures.emplace_back(rest.substr(prefix.size()));
  }
  return captures;
}

}  // namespace beryl
