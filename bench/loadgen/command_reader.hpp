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

class CommandReader {
 public:
  // `on_line` gets each line, and "finish" once stdin ends; reading stops after "finish".
  CommandReader(boost::asio::io_context& io, std::function<void(const std::string&)> on_line);
  ~CommandReader();
  CommandReader(const CommandReader&) = delete;
  CommandReader& operator=(const CommandReader&) = delete;

 private:
  std::shared_ptr<std::atomic<bool>> done_;
  std::thread thread_;
};

}  // namespace bench
