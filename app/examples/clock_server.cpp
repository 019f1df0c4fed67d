// A complete beryl-cpp server with one channel, clock_channel.hpp on "clock:*".
#include "app/examples/clock_channel.hpp"
#include "app/runtime/server.hpp"

int main(int argc, char** argv) {
  auto config = beryl::app::config_from_command_line(argc, argv);
  auto routes = std::make_shared<beryl::router>();
  routes->add<clock_channel>("clock:*");
  return beryl::app::serve(config, routes, {});
}
