#pragma once
// What the server counts on the per-message path for /metrics and the dashboard: messages and
// bytes in and out, broadcasts, deliveries, joins, leaves, errors by kind, and histograms of
// join latency and handle_in duration (docs/architecture.md §6).
//
// Each thread counts into a block of its own: no shared atomic, no lock on the hot path (an add
// is a relaxed load and store of the thread's own cell). Reading sums every thread's block, and
// what threads that have ended left behind. Counting can be switched off for the whole process
// (--no-metrics), to measure what it costs.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace beryl::counters {

enum class count : std::uint8_t {
  messages_in,     // client messages decoded (WebSocket messages, long-poll messages)
  bytes_in,        // their bytes
  messages_out,    // frames queued to clients
  bytes_out,       // their bytes
  broadcasts,      // messages published to a topic (presence_diffs apart)
  presence_diffs,  // presence_diff messages published to a topic
  deliveries,      // broadcast and presence_diff frames handed to subscribers
  joins,           // joins answered ok
  leaves,          // joined channels that ended, for any reason
};
inline constexpr std::size_t count_kinds = 9;

enum class error : std::uint8_t {
  unmatched_topic,    // a join or message for a topic no route or joined channel takes
  join_refused,       // join() answered an error
  join_crashed,       // join() threw or timed out
  too_many_channels,  // over --max-channels
  rate_limited,       // a client message over its rate limit, dropped
  channel_crashed,    // a joined channel crashed
  slow_consumer,      // a connection's outbound buffer overflowed
  bad_message,        // a client message that could not be decoded
};
inline constexpr std::size_t error_kinds = 8;

enum class latency : std::uint8_t {
  join,       // a join's arrival at the socket to its answer
  handle_in,  // one handle_in call
};
inline constexpr std::size_t latency_kinds = 2;

// Upper bounds of the histogram buckets, in seconds (Prometheus' `le`); the last bucket, +Inf,
// is implied.
inline constexpr std::array<double, 14> bucket_bounds{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

std::string_view name(count c);
std::string_view name(error e);
std::string_view name(latency l);

void add(count c, std::uint64_t n = 1) noexcept;
void add(error e) noexcept;
void observe(latency l, std::chrono::nanoseconds d) noexcept;

struct histogram {
  std::array<std::uint64_t, bucket_bounds.size() + 1> buckets{};  // not cumulative; last: +Inf
  std::uint64_t count = 0;
  std::uint64_t sum_ns = 0;
};

struct totals {
  std::array<std::uint64_t, count_kinds> counts{};
  std::array<std::uint64_t, error_kinds> errors{};
  std::array<histogram, latency_kinds> latencies{};

  std::uint64_t operator[](count c) const { return counts[static_cast<std::size_t>(c)]; }
  std::uint64_t operator[](error e) const { return errors[static_cast<std::size_t>(e)]; }
  const histogram& operator[](latency l) const { return latencies[static_cast<std::size_t>(l)]; }
};

// Everything counted so far in this process, by every thread.
totals read();

// On by default. Off, add and observe do nothing.
void set_enabled(bool on) noexcept;
bool enabled() noexcept;

}  // namespace beryl::counters
