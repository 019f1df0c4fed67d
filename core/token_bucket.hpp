#pragma once
// Token buckets for rate limits, as beryl's with_message_rate and with_channel_rate: `per_second`
// tokens a second, holding at most `burst`; every message takes one. Pure: the caller passes the
// time, so it is tested without waiting.
#include <algorithm>
#include <chrono>

namespace beryl {

struct rate_limit {
  double per_second = 0;  // 0: unlimited
  double burst = 0;       // the bucket's size; 0 means one second's worth (at least 1)

  bool enabled() const { return per_second > 0; }
  double size() const { return burst > 0 ? burst : std::max(per_second, 1.0); }
};

// Only the fill level and when it was last topped up: the limit is the caller's (one
// rate_limit in the settings serves every connection), which keeps a connection's buckets small.
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  token_bucket() = default;
  // Starts full.
  token_bucket(const rate_limit& limit, clock::time_point now)
      : tokens_(limit.size()), last_(now) {}

  // Takes a token when there is one (after refilling for the time since the last call); false
  // when `limit` is reached. An unlimited `limit` always gives one.
  bool try_take(const rate_limit& limit, clock::time_point now);

 private:
  double tokens_ = 0;
  clock::time_point last_{};
};

}  // namespace beryl
