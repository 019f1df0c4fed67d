#include "core/presence/coalescing_window.hpp"

#include <algorithm>

namespace beryl::presence {

coalescing_window::coalescing_window(std::chrono::milliseconds base, std::chrono::milliseconds max)
    : base_(base), max_(std::max(base, max)), current_(base) {}

// "As soon as": within the window just used. A change arriving later than that after the last
// diffs means the topics went quiet in between.
std::chrono::milliseconds coalescing_window::open(clock::time_point now, std::size_t presences) {
  bool busy = last_close_ && now - *last_close_ < current_;
  current_ = busy && presences >= big_topic ? std::min(current_ * 2, max_) : base_;
  return current_;
}

}  // namespace beryl::presence
