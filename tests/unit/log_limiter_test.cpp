#include "core/log_limiter.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

using namespace beryl;
using namespace std::chrono_literals;

namespace {

// What admit() answered for `lines` lines at `now`: -1 for a line held back.
std::vector<long> attempts(log_limiter& limiter, const rate_limit& limit,
                           log_limiter::clock::time_point now, int lines) {
  std::vector<long> out;
  for (int i = 0; i < lines; ++i) {
    auto admitted = limiter.admit(limit, now);
    out.push_back(admitted ? static_cast<long>(*admitted) : -1);
  }
  return out;
}

}  // namespace

TEST_CASE("log limiter: a burst of lines, then the rest held back and counted") {
  auto t0 = log_limiter::clock::time_point{} + 1h;
  rate_limit limit{0.5, 3};
  log_limiter limiter(limit, t0);
  CHECK(attempts(limiter, limit, t0, 6) == std::vector<long>{0, 0, 0, -1, -1, -1});
  CHECK(attempts(limiter, limit, t0 + 1s, 2) == std::vector<long>{-1, -1});
  // 2 s later one line may go: it reports the five held back, then the count starts again.
  CHECK(attempts(limiter, limit, t0 + 2s, 3) == std::vector<long>{5, -1, -1});
  CHECK(attempts(limiter, limit, t0 + 4s, 1) == std::vector<long>{2});
}

TEST_CASE("log limiter: a quiet source gets its whole burst back, nothing to report") {
  auto t0 = log_limiter::clock::time_point{} + 1h;
  log_limiter limiter(log_lines_per_source, t0);
  CHECK(attempts(limiter, log_lines_per_source, t0, 5) == std::vector<long>{0, 0, 0, 0, 0});
  CHECK(attempts(limiter, log_lines_per_source, t0 + 1h, 5) == std::vector<long>{0, 0, 0, 0, 0});
}

TEST_CASE("log limiter: a flood writes burst + rate x time lines, whatever its size") {
  auto t0 = log_limiter::clock::time_point{} + 1h;
  log_limiter limiter(log_lines_per_source, t0);
  long written = 0, reported = 0, attempted = 0;
  for (auto t = t0; t < t0 + 60s; t += 10ms) {  // 100,000 lines a second for a minute
    for (int i = 0; i < 1000; ++i, ++attempted) {
      if (auto admitted = limiter.admit(log_lines_per_source, t)) {
        ++written;
        reported += static_cast<long>(*admitted);
      }
    }
  }
  CHECK(written <= 5 + 30);  // burst 5, then 0.5 a second
  CHECK(written >= 30);
  // Every line held back is reported by a later line, except those after the last one written.
  CHECK(reported + written <= attempted);
  CHECK(attempted - reported - written <= 2 * 100000);  // at most one 2 s gap unreported
}
