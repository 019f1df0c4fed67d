// Token buckets against random traffic: in any stretch of time a bucket never gives more than its
// burst plus its rate times that time, and after a quiet spell long enough to refill it gives its
// whole burst again.
#include "core/token_bucket.hpp"
#include "fuzz_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace beryl;
using beryl::fuzz::rng;

TEST_CASE("no stretch of time gets more than burst + rate x time; a full refill gives the burst") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 30);
  using clock = token_bucket::clock;
  for (int round = 0; round < fuzz::rounds(300); ++round) {
    INFO("round " << round);
    rate_limit limit{static_cast<double>(r.between(1, 2000)) / 10,
                     static_cast<double>(r.between(0, 50))};
    double burst = limit.burst > 0
                       ? limit.burst
                       : std::max(limit.per_second, 1.0);  // the documented default, written out
    auto now = clock::time_point{} + std::chrono::hours(1);
    token_bucket bucket(limit, now);
    std::vector<clock::time_point> given;
    for (int step = 0; step < 400; ++step) {
      now += std::chrono::microseconds(r.chance(0.7) ? r.between(0, 2000) : r.between(0, 500'000));
      for (std::size_t n = r.between(0, 5); n > 0; --n)
        if (bucket.try_take(limit, now)) given.push_back(now);
    }
    // Every window from one grant to a later one: the grants in it are bounded by the limit.
    double worst_excess = 0;
    for (std::size_t i = 0; i < given.size(); ++i) {
      for (std::size_t j = i; j < given.size(); ++j) {
        std::chrono::duration<double> span = given[j] - given[i];
        double allowed = burst + limit.per_second * span.count();
        worst_excess = std::max(worst_excess, static_cast<double>(j - i + 1) - allowed);
      }
    }
    CHECK(worst_excess <= 1e-6);
    now += std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(burst / limit.per_second + 0.001));
    int taken = 0;
    while (taken < burst + 10 && bucket.try_take(limit, now)) ++taken;
    CHECK(taken == static_cast<int>(burst));
  }
}
