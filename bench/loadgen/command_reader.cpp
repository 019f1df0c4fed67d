#include "command_reader.hpp"

#include <boost/asio/post.hpp>

#include <iostream>

namespace bench {

command_reader::command_reader(boost::asio::io_context& io,
                               std::function<void(const std::string&)> on_line)
    : done_(std::make_shared<std::atomic<bool>>(false)) {
  thread_ = std::thread([&io, on_line = std::move(on_line), done = done_] {
    std::string line;
    while (true) {
      if (!std::getline(std::cin, line)) line = "finish";
      boost::asio::post(io, [on_line, line] { on_line(line); });
      if (line == "finish") break;
    }
    *done = true;
  });
}

command_reader::~command_reader() {
  // After a deadline the thread may still be blocked reading stdin; it must not hold up exit.
  if (*done_) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

}  // namespace bench
