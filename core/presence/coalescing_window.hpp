#pragma once
// How long a presence shard coalesces changes before its next diffs (docs/presence.md §1.3).
// The first change after a quiet spell goes out at once, as Phoenix sends every change: a lone
// join reaches a quiet room without waiting. Changes that follow within the window just used are
// held for the base window (--presence-diff-ms), so a burst costs each member one frame per
// window. While changes to a big topic keep coming as soon as the diffs have gone, as in a join
// storm, the window doubles up to the maximum (--presence-diff-max-ms): each of its many members
// then gets fewer, larger frames; a pause in the storm brings the base window back before a
// change goes out at once again. A small topic's diffs cost little, and keep the base window.
// Pure.
#include <chrono>
#include <cstddef>
#include <optional>

namespace beryl::presence {

class coalescing_window {
 public:
  using clock = std::chrono::steady_clock;

  // Topics with this many presences or more are big.
  static constexpr std::size_t big_topic = 500;

  // A maximum below the base is the base: the window is then fixed.
  coalescing_window(std::chrono::milliseconds base, std::chrono::milliseconds max);

  // The first change since the last diffs arrived at `now`, to a topic of `presences`: how long
  // to hold it; zero to send it at once.
  std::chrono::milliseconds open(clock::time_point now, std::size_t presences);
  // The diffs went out at `now`.
  void close(clock::time_point now) { last_close_ = now; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;  // the window just used; zero: the diffs went at once
  std::optional<clock::time_point> last_close_;
};

}  // namespace beryl::presence
