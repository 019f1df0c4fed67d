#include "core/presence/coalescing_window.hpp"

#include <doctest/doctest.h>

using beryl::presence::coalescing_window;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t big = coalescing_window::big_topic;
constexpr auto at_once = 0ms;
}  // namespace

TEST_CASE("presence window: after a quiet spell a change goes out at once, one soon after waits") {
  coalescing_window window(50ms, 200ms);
  auto t = coalescing_window::clock::time_point{} + 1h;
  CHECK(window.open(t, 10) == at_once);  // the first change ever
  window.close(t);
  CHECK(window.open(t += 49ms, 10) == 50ms);  // within the base window of those diffs
  window.close(t += 50ms);
  CHECK(window.open(t += 50ms, 10) == at_once);  // a whole window later: quiet again
  window.close(t);
  CHECK(window.open(t += 1s, big) == at_once);  // a big topic's lone change too
}

TEST_CASE(
    "presence window: for a big topic, the base once busy, doubling up to the maximum while "
    "changes keep coming") {
  coalescing_window window(50ms, 200ms);
  auto t = coalescing_window::clock::time_point{} + 1h;
  CHECK(window.open(t, big) == at_once);
  window.close(t);
  CHECK(window.open(t += 1ms, big) == 50ms);  // the next change right after: held
  window.close(t += 50ms);
  CHECK(window.open(t += 1ms, big) == 100ms);  // changes keep coming right after the diffs
  window.close(t += 100ms);
  CHECK(window.open(t += 1ms, big) == 200ms);
  window.close(t += 200ms);
  CHECK(window.open(t += 1ms, big) == 200ms);  // no further than the maximum
  window.close(t += 200ms);
  // Quiet after a grown window: maybe a pause in the storm, so the base window first, however
  // long the pause.
  CHECK(window.open(t += 10s, big) == 50ms);
  window.close(t += 50ms);
  CHECK(window.open(t += 60ms, big) == at_once);  // 60 ms after diffs held for 50: quiet
  window.close(t);
  CHECK(window.open(t += 10ms, big) == 50ms);  // busy again: the base first
}

TEST_CASE("presence window: a maximum below the base fixes the window at the base") {
  coalescing_window window(300ms, 100ms);
  auto t = coalescing_window::clock::time_point{} + 1h;
  CHECK(window.open(t, big) == at_once);
  window.close(t);
  CHECK(window.open(t += 1ms, big) == 300ms);
  window.close(t += 300ms);
  CHECK(window.open(t += 1ms, big) == 300ms);
}

TEST_CASE("presence window: a small topic keeps the base window however busy") {
  coalescing_window window(50ms, 200ms);
  auto t = coalescing_window::clock::time_point{} + 1h;
  CHECK(window.open(t, big - 1) == at_once);
  window.close(t);
  CHECK(window.open(t += 1ms, big - 1) == 50ms);
  window.close(t += 50ms);
  CHECK(window.open(t += 1ms, big - 1) == 50ms);
  window.close(t += 50ms);
  CHECK(window.open(t += 1ms, big) == 100ms);  // it grew big: its diffs now reach many
  window.close(t += 100ms);
  CHECK(window.open(t += 1ms, 10) == 50ms);  // a small topic's change in a busy shard
}
