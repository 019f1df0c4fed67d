#pragma once
// The network threads, each running its own io_context: a connection stays on the thread that
// took it. Declare it before the caf::actor_system and call stop() before the system goes: stop()
// ends the connections (which stop their actors), and the io_contexts themselves stay until the
// system has finished every actor, since an actor's Asio objects (the listener's timer) go with
// the actor's cleanup.
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

  // Stops and joins the threads and destroys every pending handler (and so the connections);
  // the io_context's services stay until destruction. The destructor calls it too.
  void stop();

  std::size_t threads() const;

  struct impl;
  impl& internals() { return *impl_; }

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace beryl
