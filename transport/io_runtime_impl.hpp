#pragma once
// Transport-internal: the Asio objects behind io_runtime.
#include "transport/io_runtime.hpp"
#include "transport/network_unit.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace beryl {

// An io_context whose shutdown() is public: it destroys every pending handler (so the
// connections they own end) and keeps the services, which Asio objects still held elsewhere
// (by actors that CAF has not cleaned up yet) need until they are destroyed.
struct stoppable_io_context : boost::asio::io_context {
  using boost::asio::execution_context::shutdown;
};

struct io_runtime::impl {
  stoppable_io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  // One per thread. They outlive the actor system: an actor keeps a pointer to the unit that ran
  // it last.
  std::vector<std::unique_ptr<network_unit>> units;
  std::mutex mutex;
  std::condition_variable all_done;
  std::size_t running = 0;

  // One strand per connection when several threads run the io_context.
  boost::asio::any_io_executor connection_executor() {
    if (threads.size() > 1) return boost::asio::make_strand(ioc);
    return ioc.get_executor();
  }
};

}  // namespace beryl
