// Generator processes started by a coordinator when one process cannot hold all connections
// (each process is capped at 20,000 open files). They are this same binary, run with a
// "-worker" scenario, reading one command per line on stdin and answering JSON lines on stdout.
#pragma once

#include <boost/json/object.hpp>

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace bench {

class worker_pool {
 public:
  // Starts one worker per argument list (the arguments after the program name).
  explicit worker_pool(const std::vector<std::vector<std::string>>& worker_args);
  // Kills and reaps workers that are still running (after an error in the coordinator).
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  std::size_t size() const { return workers_.size(); }
  void send(std::size_t index, const std::string& line);
  // Blocks for the worker's next JSON line; throws std::runtime_error if it exited instead.
  boost::json::object receive(std::size_t index);
  // Closes every worker's stdin and waits for them to exit.
  void wait();

 private:
  struct worker {
    pid_t pid = -1;
    int command_fd = -1;      // the worker's stdin
    FILE* replies = nullptr;  // the worker's stdout
  };
  std::vector<worker> workers_;
};

}  // namespace bench
