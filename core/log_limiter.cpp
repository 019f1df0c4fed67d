#include "core/log_limiter.hpp"

namespace beryl {

std::optional<std::uint64_t> log_limiter::admit(const rate_limit& limit, clock::time_point now) {
  if (!bucket_.try_take(limit, now)) {
    ++held_back_;
    return std::nullopt;
  }
  auto held_back = held_back_;
  held_back_ = 0;
  return held_back;
}

}  // namespace beryl
