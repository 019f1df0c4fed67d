// A worker's command channel: reads lines from stdin on a thread of its own (a blocking read
// must not stall the network thread) and hands each to the io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace bench {

class command_reader {
 public:
  // `on_line` gets each line, and "finish" once stdin ends; reading stops after "finish".
  command_reader(boost::asio::io_context& io, std::function<void(const std::string&)> on_line);
  ~command_reader();
  command_reader(const command_reader&) = delete;
  command_reader& operator=(const command_reader&) = delete;

 private:
  std::shared_ptr<std::atomic<bool>> done_;
  std::thread thread_;
};

}  // namespace bench
