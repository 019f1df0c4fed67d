#pragma once
// The log of one source of warnings that a client can cause at will (a connection, a pubsub
// shard): at most log_lines_per_source lines (core/log_limiter.hpp) go to spdlog, and the next
// line written after some were held back ends with "(N similar suppressed)". Thread-safe: a
// connection's socket actor and its channels share one (socket_info::log). Client-controlled
// text in the arguments still goes through log_text() (core/log_text.hpp).
//
// A connection's log knows the connection: every line it writes carries its socket id and remote
// address as metadata (core/log_metadata.hpp; the JSON log format shows them, the text format
// does not). A call may pass more, e.g. log.warn(log_topic(topic), "...") for a line about a
// topic.
#include "core/log_limiter.hpp"
#include "core/log_metadata.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace beryl {

class limited_log {
 public:
  limited_log() = default;

  // A connection's: the pointers are to the connection's own fields (socket_info), which outlive
  // the log and no longer change once the connection runs.
  limited_log(const std::optional<std::string>* socket_id, const std::string* remote_address)
      : socket_id_(socket_id), remote_address_(remote_address) {}

  limited_log(const limited_log&) = delete;
  limited_log& operator=(const limited_log&) = delete;
  ~limited_log() { delete limiter_.load(); }

  template <class... Args>
  void log(spdlog::level::level_enum level, const log_metadata& about,
           spdlog::format_string_t<Args...> format, Args&&... args) {
    if (!spdlog::should_log(level)) return;  // not counted: nothing would have been written
    auto held_back = admit();
    if (!held_back) return;
    auto line = fmt::format(format, std::forward<Args>(args)...);
    if (*held_back > 0)
      fmt::format_to(std::back_inserter(line), " ({} similar suppressed)", *held_back);
    log_metadata_scope scope(with_connection(about));
    spdlog::log(level, "{}", line);
  }
  template <class... Args>
  void log(spdlog::level::level_enum level, spdlog::format_string_t<Args...> format,
           Args&&... args) {
    log(level, log_metadata{}, format, std::forward<Args>(args)...);
  }

  template <class... Args>
  void debug(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::debug, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void debug(const log_metadata& about, spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::debug, about, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::info, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(const log_metadata& about, spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::info, about, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::warn, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(const log_metadata& about, spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::warn, about, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void error(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::err, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void error(const log_metadata& about, spdlog::format_string_t<Args...> format, Args&&... args) {
    log(spdlog::level::err, about, format, std::forward<Args>(args)...);
  }

 private:
  // Made by the first line written: most connections never write one, and an idle connection's
  // log is then one pointer.
  struct guarded_limiter {
    std::mutex mutex;
    log_limiter limiter{log_lines_per_source, log_limiter::clock::now()};
  };

  std::optional<std::uint64_t> admit() {
    auto& guarded = limiter();
    std::lock_guard<std::mutex> lock(guarded.mutex);
    return guarded.limiter.admit(log_lines_per_source, log_limiter::clock::now());
  }

  guarded_limiter& limiter() {
    auto* existing = limiter_.load(std::memory_order_acquire);
    if (existing) return *existing;
    auto made = std::make_unique<guarded_limiter>();
    // Two first lines at once: one limiter is kept, the other thread uses it.
    if (limiter_.compare_exchange_strong(existing, made.get(), std::memory_order_acq_rel))
      return *made.release();
    return *existing;
  }

  // `about`, and what it leaves unknown of the connection.
  log_metadata with_connection(log_metadata about) const {
    if (about.socket_id.empty() && socket_id_ && *socket_id_) about.socket_id = **socket_id_;
    if (about.remote_address.empty() && remote_address_) about.remote_address = *remote_address_;
    return about;
  }

  std::atomic<guarded_limiter*> limiter_{nullptr};
  const std::optional<std::string>* socket_id_ = nullptr;
  const std::string* remote_address_ = nullptr;
};

}  // namespace beryl
