#include "pacer.hpp"

#include "clock.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

pacer::pacer(boost::asio::io_context& io, double rate, double duration_s,
             std::function<bool()> emit, std::function<void()> done)
    : timer_(io),
      rate_(rate),
      planned_(static_cast<std::uint64_t>(std::llround(rate * duration_s))),
      emit_(std::move(emit)),
      done_(std::move(done)) {}

void pacer::start() {
  started_ns_ = now_ns();
  end_ns_ = started_ns_ + static_cast<std::int64_t>(static_cast<double>(planned_) / rate_ * 1e9);
  tick();
}

void pacer::tick() {
  const std::int64_t now = now_ns();
  const auto due = std::min<std::uint64_t>(
      planned_, static_cast<std::uint64_t>(seconds_between(started_ns_, now) * rate_) + 1);
  while (emitted_ < due && emit_()) ++emitted_;
  // Stop at the planned count, or at the end of the period plus a grace for a stalled emitter.
  if (emitted_ >= planned_ || now > end_ns_ + 1'000'000'000) {
    finished_ns_ = now;
    return done_();
  }
  timer_.expires_after(std::chrono::milliseconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

}  // namespace bench
