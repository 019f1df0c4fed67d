// A tiny app outside the tree: one channel on the installed runtime, and a service of its own
// under the supervision tree. With --stray-actor the service also spawns an actor that nothing
// links or stops, as apps do by mistake: the server must still exit.
#include "app/runtime/server.hpp"
#include "echo_channel.hpp"

#include <caf/all.hpp>

int main(int argc, char** argv) {
  bool stray_actor = false;
  auto config = beryl::app::config_from_command_line(
      argc, argv,
      {{"stray-actor", "", "also spawn an actor outside the tree",
        [&](const std::string&) { stray_actor = true; }}});
  auto routes = std::make_shared<beryl::router>();
  routes->add<echo_channel>("echo:*");
  // Held for the whole program, as an app's own table of actors would be.
  static caf::actor stray;
  auto greeter =
      beryl::supervision::worker_spec("greeter", [stray_actor](caf::local_actor* parent) {
        if (stray_actor && !stray)
          stray =
              parent->system().spawn([]() -> caf::behavior { return {[](int n) { return n; }}; });
        return parent->spawn([]() -> caf::behavior {
          return {[](const std::string& name) { return "hello " + name; }};
        });
      });
  greeter.registered = true;
  return beryl::app::serve(config, routes, {}, nullptr, {greeter});
}
