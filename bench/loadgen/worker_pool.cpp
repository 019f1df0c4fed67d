#include "worker_pool.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

extern char** environ;

namespace bench {
namespace {

void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
}

}  // namespace

worker_pool::worker_pool(const std::vector<std::vector<std::string>>& worker_args) {
  std::string self = "/proc/self/exe";
  for (const auto& args : worker_args) {
    std::vector<std::string> owned(args);
    std::vector<char*> argv{self.data()};
    for (auto& arg : owned) argv.push_back(arg.data());
    argv.push_back(nullptr);

    int commands[2];
    int replies[2];
    make_pipe(commands);
    make_pipe(replies);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears close-on-exec on the copies, so only these two ends reach the worker.
    posix_spawn_file_actions_adddup2(&actions, commands[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, replies[1], STDOUT_FILENO);
    worker w;
    const int rc = posix_spawn(&w.pid, self.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(commands[0]);
    close(replies[1]);
    if (rc != 0) {
      close(commands[1]);
      close(replies[0]);
      throw std::runtime_error("posix_spawn of a worker failed");
    }
    w.command_fd = commands[1];
    w.replies = fdopen(replies[0], "r");
    workers_.push_back(w);
  }
}

worker_pool::~worker_pool() {
  for (auto& w : workers_) {
    if (w.pid > 0) kill(w.pid, SIGTERM);
  }
  wait();
}

void worker_pool::send(std::size_t index, const std::string& line) {
  const std::string text = line + "\n";
  if (write(workers_[index].command_fd, text.data(), text.size()) !=
      static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("worker " + std::to_string(index) + " does not take commands");
  }
}

boost::json::object worker_pool::receive(std::size_t index) {
  char* line = nullptr;
  std::size_t capacity = 0;
  const ssize_t n = getline(&line, &capacity, workers_[index].replies);
  const std::string text = n > 0 ? std::string(line, static_cast<std::size_t>(n)) : std::string();
  free(line);
  if (n <= 0) throw std::runtime_error("worker " + std::to_string(index) + " exited early");
  return boost::json::parse(text).as_object();
}

void worker_pool::wait() {
  for (auto& w : workers_) {
    if (w.command_fd >= 0) close(w.command_fd);
    w.command_fd = -1;
    if (w.replies) fclose(w.replies);
    w.replies = nullptr;
    if (w.pid > 0) waitpid(w.pid, nullptr, 0);
    w.pid = -1;
  }
}

}  // namespace bench
