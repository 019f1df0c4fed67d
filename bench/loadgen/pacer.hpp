// Offers an open-loop rate: calls emit() `rate` times per second for `duration_s`, checking on a
// 1 ms tick how many emissions are due, so a late tick catches up instead of lowering the rate.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>

namespace bench {

class pacer {
 public:
  // emit() returns false when it cannot emit now; what is due is then retried on the next tick.
  pacer(boost::asio::io_context& io, double rate, double duration_s, std::function<bool()> emit,
        std::function<void()> done);

  void start();
  std::uint64_t emitted() const { return emitted_; }
  std::uint64_t planned() const { return planned_; }
  std::int64_t started_ns() const { return started_ns_; }
  std::int64_t finished_ns() const { return finished_ns_; }

 private:
  void tick();

  boost::asio::steady_timer timer_;
  double rate_;
  std::uint64_t planned_;
  std::function<bool()> emit_;
  std::function<void()> done_;
  std::uint64_t emitted_ = 0;
  std::int64_t started_ns_ = 0;
  std::int64_t finished_ns_ = 0;
  std::int64_t end_ns_ = 0;
};

}  // namespace bench
