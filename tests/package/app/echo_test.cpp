// The tiny app's channel tested with the installed test kit and no test framework: an
// expectation that fails throws, and the exit status says so.
#include "app/testing/channel_test.hpp"
#include "echo_channel.hpp"

#include <cstdio>

int main() {
  try {
    beryl::testing::channel_test t;
    t.routes().add<echo_channel>("echo:*");
    auto socket = t.connect();
    if (!socket.join("echo:a").is_ok()) throw std::runtime_error("join refused");
    auto ref = socket.push("echo:a", "say", boost::json::object{{"n", 1}});
    auto echoed = socket.expect_reply(ref);
    if (std::get<boost::json::value>(echoed) != boost::json::value{{"n", 1}})
      throw std::runtime_error("wrong echo");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_test: %s\n", e.what());
    return 1;
  }
  std::puts("echo_test: ok");
  return 0;
}
