#include "supervision/restart_intensity.hpp"

namespace beryl::supervision {

restart_intensity::restart_intensity(std::size_t max_restarts, caf::timespan within)
    : max_restarts_(max_restarts), within_(within) {}

bool restart_intensity::record(clock::time_point now) {
  stamps_.push_back(now);
  while (now - stamps_.front() > within_) stamps_.pop_front();
  return stamps_.size() <= max_restarts_;
}

}  // namespace beryl::supervision
