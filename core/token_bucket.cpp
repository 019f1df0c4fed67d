#include "core/token_bucket.hpp"

namespace beryl {

bool token_bucket::try_take(const rate_limit& limit, clock::time_point now) {
  if (!limit.enabled()) return true;
  if (now > last_) {
    std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(limit.size(), tokens_ + elapsed.count() * limit.per_second);
    last_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace beryl
