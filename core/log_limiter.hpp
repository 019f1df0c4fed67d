#pragma once
// How many log lines one source (a connection, say) may write: a few at once, then a slow
// trickle, so a client repeating whatever earns it a warning cannot fill the disk. The lines held
// back are counted, and the next line written reports them ("N similar suppressed"). Pure: the
// caller passes the time, as with token_bucket.
#include "core/token_bucket.hpp"

#include <cstdint>
#include <optional>

namespace beryl {

// Per source: 5 lines at once, then one every 2 s.
inline constexpr rate_limit log_lines_per_source{0.5, 5};

class log_limiter {
 public:
  using clock = token_bucket::clock;

  log_limiter(const rate_limit& limit, clock::time_point now) : bucket_(limit, now) {}

  // Nothing when the line is to be held back (it is counted); otherwise the line may be written,
  // and this is how many were held back since the last line written.
  std::optional<std::uint64_t> admit(const rate_limit& limit, clock::time_point now);

 private:
  token_bucket bucket_;
  std::uint64_t held_back_ = 0;
};

}  // namespace beryl
