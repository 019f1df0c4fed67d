#include "core/token_bucket.hpp"

#include <doctest/doctest.h>

using namespace beryl;
using namespace std::chrono_literals;

namespace {

int takes(token_bucket& bucket, const rate_limit& limit, token_bucket::clock::time_point now,
          int attempts) {
  int taken = 0;
  for (int i = 0; i < attempts; ++i) taken += bucket.try_take(limit, now);
  return taken;
}

}  // namespace

TEST_CASE("a bucket starts full, gives its burst at once, then its rate") {
  auto t0 = token_bucket::clock::time_point{} + 1h;
  rate_limit limit{10, 5};
  token_bucket bucket(limit, t0);
  CHECK(takes(bucket, limit, t0, 20) == 5);
  CHECK(takes(bucket, limit, t0 + 100ms, 20) == 1);  // 10/s: one token per 100 ms
  CHECK(takes(bucket, limit, t0 + 350ms, 20) == 2);  // 2.5 more, the half token stays
  CHECK(takes(bucket, limit, t0 + 400ms, 20) == 1);
}

TEST_CASE("a long idle time refills only up to the burst") {
  auto t0 = token_bucket::clock::time_point{} + 1h;
  rate_limit limit{100, 3};
  token_bucket bucket(limit, t0);
  CHECK(takes(bucket, limit, t0, 10) == 3);
  CHECK(takes(bucket, limit, t0 + 24h, 10) == 3);
}

TEST_CASE("the burst defaults to one second's worth, at least one token") {
  auto t0 = token_bucket::clock::time_point{} + 1h;
  rate_limit twenty{20, 0};
  token_bucket per_second(twenty, t0);
  CHECK(takes(per_second, twenty, t0, 100) == 20);
  rate_limit half{0.5, 0};
  token_bucket slow(half, t0);
  CHECK(takes(slow, half, t0, 10) == 1);
  CHECK(takes(slow, half, t0 + 1s, 10) == 0);
  CHECK(takes(slow, half, t0 + 2s, 10) == 1);
}

TEST_CASE("unlimited buckets always give, and time going backwards takes nothing away") {
  auto t0 = token_bucket::clock::time_point{} + 1h;
  token_bucket unlimited;
  CHECK(takes(unlimited, rate_limit{}, t0, 1000) == 1000);
  rate_limit off{0, 0};
  token_bucket bucket_off(off, t0);
  CHECK(takes(bucket_off, off, t0, 1000) == 1000);
  rate_limit limit{10, 2};
  token_bucket bucket(limit, t0);
  CHECK(takes(bucket, limit, t0, 5) == 2);
  CHECK(takes(bucket, limit, t0 - 1s, 5) == 0);
  CHECK(takes(bucket, limit, t0 + 100ms, 5) == 1);
}
