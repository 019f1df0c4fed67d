#include "core/presence/coalescing_window.hpp"

#include <algorithm>

namespace beryl::presence {

coalescing_window::coalescing_window(std::chrono::milliseconds base, std::chrono::milliseconds max)
    : base_(base), max_(std::max(base, max)), current_(base) {}

// "Busy": a change within the window just used (the base after diffs sent at once) since the last
// diffs. Otherwise the topics went quiet in between, and the change goes out at once; but after a
// grown window, the quiet may be a pause in a storm, where a diff per change after every pause
// would reach a whole big room: the change waits the base window, and only then are changes
// sent at once again.
std::chrono::milliseconds coalescing_window::open(clock::time_point now, std::size_t presences) {
  const bool busy = last_close_ && now - *last_close_ < std::max(current_, base_);
  if (!busy) {
    current_ = current_ > base_ ? base_ : std::chrono::milliseconds::zero();
    return current_;
  }
  const bool doubling = current_ > current_.zero() && presences >= big_topic;
  current_ = doubling ? std::min(current_ * 2, max_) : base_;
  return current_;
}

}  // namespace beryl::presence
