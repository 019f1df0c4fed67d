#include "core/counters.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace beryl::counters {
namespace {

using cell = std::atomic<std::uint64_t>;

struct histogram_cells {
  std::array<cell, bucket_bounds.size() + 1> buckets{};
  cell count{0};
  cell sum_ns{0};
};

// One thread's counts. Only its thread writes it; readers load the cells concurrently.
struct alignas(64) block {
  std::array<cell, count_kinds> counts{};
  std::array<cell, error_kinds> errors{};
  std::array<histogram_cells, latency_kinds> latencies{};

  void add_to(totals& t) const {
    for (std::size_t i = 0; i < count_kinds; ++i)
      t.counts[i] += counts[i].load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < error_kinds; ++i)
      t.errors[i] += errors[i].load(std::memory_order_relaxed);
    for (std::size_t l = 0; l < latency_kinds; ++l) {
      auto& out = t.latencies[l];
      const auto& in = latencies[l];
      for (std::size_t b = 0; b < in.buckets.size(); ++b)
        out.buckets[b] += in.buckets[b].load(std::memory_order_relaxed);
      out.count += in.count.load(std::memory_order_relaxed);
      out.sum_ns += in.sum_ns.load(std::memory_order_relaxed);
    }
  }
};

// The owner is the only writer: a plain load and store, no locked instruction.
void bump(cell& c, std::uint64_t n) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct registry {
  std::mutex mutex;
  std::vector<const block*> live;
  totals ended;  // what threads that have ended counted
};

registry& the_registry() {
  static registry r;
  return r;
}

std::atomic<bool> counting{true};

// Registers its block on the thread's first count and folds it into `ended` when the thread
// ends.
struct thread_block {
  block counts;

  thread_block() {
    auto& r = the_registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.live.push_back(&counts);
  }
  ~thread_block() {
    auto& r = the_registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    counts.add_to(r.ended);
    r.live.erase(std::remove(r.live.begin(), r.live.end(), &counts), r.live.end());
  }
};

block& mine() {
  thread_local thread_block b;
  return b.counts;
}

}  // namespace

std::string_view name(count c) {
  switch (c) {
    case count::messages_in:
      return "messages_in";
    case count::bytes_in:
      return "bytes_in";
    case count::messages_out:
      return "messages_out";
    case count::bytes_out:
      return "bytes_out";
    case count::broadcasts:
      return "broadcasts";
    case count::presence_diffs:
      return "presence_diffs";
    case count::deliveries:
      return "deliveries";
    case count::joins:
      return "joins";
    case count::leaves:
      return "leaves";
  }
  return "unknown";
}

std::string_view name(error e) {
  switch (e) {
    case error::unmatched_topic:
      return "unmatched_topic";
    case error::join_refused:
      return "join_refused";
    case error::join_crashed:
      return "join_crashed";
    case error::too_many_channels:
      return "too_many_channels";
    case error::rate_limited:
      return "rate_limited";
    case error::channel_crashed:
      return "channel_crashed";
    case error::slow_consumer:
      return "slow_consumer";
    case error::bad_message:
      return "bad_message";
  }
  return "unknown";
}

std::string_view name(latency l) {
  switch (l) {
    case latency::join:
      return "join";
    case latency::handle_in:
      return "handle_in";
  }
  return "unknown";
}

void add(count c, std::uint64_t n) noexcept {
  if (!counting.load(std::memory_order_relaxed)) return;
  bump(mine().counts[static_cast<std::size_t>(c)], n);
}

void add(error e) noexcept {
  if (!counting.load(std::memory_order_relaxed)) return;
  bump(mine().errors[static_cast<std::size_t>(e)], 1);
}

void observe(latency l, std::chrono::nanoseconds d) noexcept {
  if (!counting.load(std::memory_order_relaxed)) return;
  auto& h = mine().latencies[static_cast<std::size_t>(l)];
  auto seconds = std::chrono::duration<double>(d).count();
  auto bucket = static_cast<std::size_t>(
      std::lower_bound(bucket_bounds.begin(), bucket_bounds.end(), seconds) -
      bucket_bounds.begin());
  bump(h.buckets[bucket], 1);
  bump(h.count, 1);
  bump(h.sum_ns, static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0)));
}

totals read() {
  auto& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  totals t = r.ended;
  for (const auto* b : r.live) b->add_to(t);
  return t;
}

void set_enabled(bool on) noexcept {
  counting.store(on, std::memory_order_relaxed);
}

bool enabled() noexcept {
  return counting.load(std::memory_order_relaxed);
}

}  // namespace beryl::counters
