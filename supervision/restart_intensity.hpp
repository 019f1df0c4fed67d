#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

#include "caf/timespan.hpp"

namespace beryl::supervision {

/// OTP's restart intensity: a supervisor may restart at most `max_restarts` times within a
/// sliding window of `within`; one more restart means something is badly wrong, so it gives up.
class restart_intensity {
 public:
  using clock = std::chrono::steady_clock;

  restart_intensity(std::size_t max_restarts, caf::timespan within);

  /// Records a restart at `now`. Returns false when this restart exceeds the limit.
  bool record(clock::time_point now);

  /// Restarts recorded inside the window as of the last record().
  std::size_t recent() const noexcept { return stamps_.size(); }

 private:
  std::size_t max_restarts_;
  caf::timespan within_;
  std::deque<clock::time_point> stamps_;  // never longer than max_restarts + 1
};

}  // namespace beryl::supervision
