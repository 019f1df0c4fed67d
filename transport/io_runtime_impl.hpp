#pragma once
// Transport-internal: the Asio objects behind io_runtime.
#include "transport/io_runtime.hpp"
#include "transport/network_unit.hpp"
#include "transport/plain_socket.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace beryl {

// An io_context whose shutdown() is public: it destroys every pending handler (so the
// connections they own end) and keeps the services, which Asio objects still held elsewhere
// (by actors that CAF has not cleaned up yet) need until they are destroyed.
struct stoppable_io_context : boost::asio::io_context {
  stoppable_io_context() : boost::asio::io_context(1) {}  // run by one thread
  using boost::asio::execution_context::shutdown;
};

struct io_runtime::impl {
  // A network thread's own io_context (its connections need no strand) and CAF execution unit.
  // Both outlive the actor system: an actor keeps a pointer to the unit that ran it last.
  struct thread_context {
    stoppable_io_context ioc;
    std::optional<boost::asio::executor_work_guard<io_executor>> work;
    network_unit unit;
  };
  std::vector<std::unique_ptr<thread_context>> contexts;  // one per thread
  std::vector<std::thread> threads;
  std::atomic<std::size_t> next_context{0};
  std::mutex mutex;
  std::condition_variable all_done;
  std::size_t running = 0;

  // The executor of the thread that serves a new connection: each thread takes the next in turn.
  io_executor connection_executor() {
    return contexts[next_context++ % contexts.size()]->ioc.get_executor();
  }
  // The first thread's, for the listener's own work (accepting, sweeping).
  io_executor listener_executor() { return contexts.front()->ioc.get_executor(); }
};

}  // namespace beryl
