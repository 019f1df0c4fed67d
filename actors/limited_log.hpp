#pragma once
// The log of one source of warnings that a client can cause at will (a connection, a pubsub
// shard): at most log_lines_per_source lines (core/log_limiter.hpp) go to spdlog, and the next
// line written after some were held back ends with "(N similar suppressed)". Thread-safe: a
// connection's socket actor and its channels share one (socket_info::log). Client-controlled
// text in the arguments still goes through log_text() (core/log_text.hpp).
#include "core/log_limiter.hpp"

#include <spdlog/spdlog.h>

#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace beryl {

class limited_log {
 public:
  limited_log() : limiter_(log_lines_per_source, log_limiter::clock::now()) {}

  template <class... Args>
  void log(spdlog::level::level_enum level, spdlog::format_string_t<Args...> format,
           Args&&... args) {
    if (!spdlog::should_log(level)) return;  // not counted: nothing would have been written
    auto held_back = admit();
    if (!held_back) return;
    auto line = fmt::format(format, std::forward<Args>(args)...);
    if (*held_back > 0)
      fmt::format_to(std::back_inserter(line), " ({} similar suppressed)", *held_back);
    spdlog::log(level, "{}", line);
  }

  template <class... Args>
  void debug(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::debug, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::info, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::warn, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void error(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::err, format, std::forward<Args>(args)...);
  }

 private:
  std::optional<std::uint64_t> admit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limiter_.admit(log_lines_per_source, log_limiter::clock::now());
  }

  std::mutex mutex_;
  log_limiter limiter_;
};

}  // namespace beryl
