// A tiny app outside the tree: one channel on the installed runtime, and a service of its own
// under the supervision tree.
#include "app/runtime/server.hpp"
#include "echo_channel.hpp"

#include <caf/all.hpp>

int main(int argc, char** argv) {
  auto config = beryl::app::config_from_command_line(argc, argv);
  auto routes = std::make_shared<beryl::router>();
  routes->add<echo_channel>("echo:*");
  auto greeter = beryl::supervision::worker_spec("greeter", [](caf::local_actor* parent) {
    return parent->spawn([]() -> caf::behavior {
      return {[](const std::string& name) { return "hello " + name; }};
    });
  });
  greeter.registered = true;
  return beryl::app::serve(config, routes, {}, nullptr, {greeter});
}
