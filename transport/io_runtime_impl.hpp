#pragma once
// Transport-internal: the Asio objects behind io_runtime.
#include "transport/io_runtime.hpp"

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

struct io_runtime::impl {
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
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
