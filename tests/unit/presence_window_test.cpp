#include "core/presence/coalescing_window.hpp"

#include <doctest/doctest.h>

using beryl::presence::coalescing_window;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t big = coalescing_window::big_topic;
}

TEST_CASE(
    "presence window: for a big topic, the base after a quiet spell, doubling up to the "
    "maximum while busy") {
  coalescing_window window(50ms, 200ms);
  auto t = coalescing_window::clock::time_point{} + 1h;
  CHECK(window.open(t, big) == 50ms);  // the first change ever
  window.close(t += 50ms);
  CHECK(window.open(t += 1ms, big) == 100ms);  // changes keep coming right after the diffs
  window.close(t += 100ms);
  CHECK(window.open(t += 1ms, big) == 200ms);
  window.close(t += 200ms);
  CHECK(window.open(t += 1ms, big) == 200ms);  // no further than the maximum
  window.close(t += 200ms);
  // Quiet for longer than the window just used: back to the base at once.
  CHECK(window.open(t += 250ms, big) == 50ms);
  window.close(t += 50ms);
  CHECK(window.open(t += 60ms, big) == 50ms);  // 60 ms after diffs held for 50: quiet again
}

TEST_CASE("presence window: a maximum below the base fixes the window at the base") {
  coalescing_window window(300ms, 100ms);
  auto t = coalescing_window::clock::time_point{} + 1h;
  CHECK(window.open(t, big) == 300ms);
  window.close(t += 300ms);
  CHECK(window.open(t += 1ms, big) == 300ms);
}

TEST_CASE("presence window: a small topic keeps the base window however busy") {
  coalescing_window window(50ms, 200ms);
  auto t = coalescing_window::clock::time_point{} + 1h;
  CHECK(window.open(t, big - 1) == 50ms);
  window.close(t += 50ms);
  CHECK(window.open(t += 1ms, big - 1) == 50ms);
  window.close(t += 50ms);
  CHECK(window.open(t += 1ms, big) == 100ms);  // it grew big: its diffs now reach many
  window.close(t += 100ms);
  CHECK(window.open(t += 1ms, 10) == 50ms);  // a small topic's change in a busy shard
}
