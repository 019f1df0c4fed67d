#include "scenarios.hpp"

#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

namespace bench {

bool run_until_stopped(boost::asio::io_context& io, double timeout_s) {
  bool timed_out = false;
  boost::asio::steady_timer deadline(io);
  deadline.expires_after(std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)));
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    spdlog::warn("deadline of {} s reached; stopping", timeout_s);
    timed_out = true;
    io.stop();
  });
  io.run();
  return timed_out;
}

}  // namespace bench
