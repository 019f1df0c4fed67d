// A tiny app outside the tree: one channel on the installed runtime.
#include "app/runtime/server.hpp"
#include "echo_channel.hpp"

int main(int argc, char** argv) {
  auto config = beryl::app::config_from_command_line(argc, argv);
  auto routes = std::make_shared<beryl::router>();
  routes->add<echo_channel>("echo:*");
  return beryl::app::serve(config, routes, {});
}
