#include "actors/token_bucket.hpp"

#include <algorithm>

namespace beryl {

token_bucket::token_bucket(const rate_limit& limit, clock::time_point now)
    : per_second_(limit.per_second),
      burst_(limit.burst > 0 ? limit.burst : std::max(limit.per_second, 1.0)),
      tokens_(burst_),
      last_(now) {}

bool token_bucket::try_take(clock::time_point now) {
  if (per_second_ <= 0) return true;
  if (now > last_) {
    std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * per_second_);
    last_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace beryl
