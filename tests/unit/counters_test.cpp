// core/counters: per-thread counts summed when read, and the latency histograms. Other tests in
// the same process count too, so each check compares before and after.
#include "core/counters.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace beryl;
using counters::count;

TEST_CASE("counters: what several threads count is summed, also after the threads ended") {
  auto before = counters::read();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([] {
      for (int i = 0; i < 1000; ++i) {
        counters::add(count::messages_in);
        counters::add(count::bytes_in, 3);
      }
      counters::add(counters::error::bad_message);
    });
  for (auto& t : threads) t.join();  // their blocks are folded into what ended threads left
  counters::add(count::deliveries, 7);
  auto after = counters::read();
  CHECK(after[count::messages_in] - before[count::messages_in] == 4000);
  CHECK(after[count::bytes_in] - before[count::bytes_in] == 12000);
  CHECK(after[counters::error::bad_message] - before[counters::error::bad_message] == 4);
  CHECK(after[count::deliveries] - before[count::deliveries] == 7);
}

TEST_CASE("counters: a live thread's counts are read while it runs") {
  std::atomic<bool> counted{false}, done{false};
  auto before = counters::read();
  std::thread t([&] {
    counters::add(count::broadcasts, 5);
    counted = true;
    while (!done) std::this_thread::yield();
  });
  while (!counted) std::this_thread::yield();
  CHECK(counters::read()[count::broadcasts] - before[count::broadcasts] == 5);
  done = true;
  t.join();
  CHECK(counters::read()[count::broadcasts] - before[count::broadcasts] == 5);
}

TEST_CASE("counters: a duration falls in the first bucket whose bound it does not exceed") {
  using std::chrono::microseconds;
  auto joins_before = counters::read()[counters::latency::join].count;
  auto before = counters::read()[counters::latency::handle_in];
  counters::observe(counters::latency::handle_in, microseconds(100));        // le 0.0001, exactly
  counters::observe(counters::latency::handle_in, microseconds(101));        // le 0.00025
  counters::observe(counters::latency::handle_in, std::chrono::seconds(7));  // +Inf
  auto after = counters::read()[counters::latency::handle_in];
  CHECK(after.buckets[0] - before.buckets[0] == 1);
  CHECK(after.buckets[1] - before.buckets[1] == 1);
  CHECK(after.buckets.back() - before.buckets.back() == 1);
  CHECK(after.count - before.count == 3);
  CHECK(after.sum_ns - before.sum_ns == 100'000 + 101'000 + 7'000'000'000ull);
  CHECK(counters::read()[counters::latency::join].count == joins_before);  // the other histogram
}

TEST_CASE("counters: switched off, nothing is counted; switched on again, counting resumes") {
  auto before = counters::read();
  counters::set_enabled(false);
  CHECK_FALSE(counters::enabled());
  counters::add(count::joins);
  counters::add(counters::error::rate_limited);
  counters::observe(counters::latency::join, std::chrono::milliseconds(1));
  auto off = counters::read();
  counters::set_enabled(true);
  counters::add(count::joins);
  auto on = counters::read();
  CHECK(off[count::joins] == before[count::joins]);
  CHECK(off[counters::error::rate_limited] == before[counters::error::rate_limited]);
  CHECK(off[counters::latency::join].count == before[counters::latency::join].count);
  CHECK(on[count::joins] - before[count::joins] == 1);
}
