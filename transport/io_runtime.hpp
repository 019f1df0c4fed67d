#pragma once
// The network threads: one io_context run by `threads` threads. Declare it after the
// caf::actor_system, so it is destroyed first (its connections stop their actors).
#include <chrono>
#include <cstddef>
#include <memory>

namespace beryl {

class io_runtime {
 public:
  explicit io_runtime(std::size_t threads);
  ~io_runtime();
  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  // Lets in-flight work (closing handshakes) finish for at most `limit`, then stops the threads.
  void drain(std::chrono::milliseconds limit);

  std::size_t threads() const;

  struct impl;
  impl& internals() { return *impl_; }

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace beryl
