// One time base for every generator process: CLOCK_MONOTONIC in nanoseconds, shared by all
// processes on the machine, so a timestamp written by one can be compared by another.
#pragma once

#include <time.h>

#include <cstdint>

namespace bench {

inline std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline double seconds_between(std::int64_t from_ns, std::int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

}  // namespace bench
