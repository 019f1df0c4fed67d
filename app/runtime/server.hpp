#pragma once
// Running a server: what beryl-server's main does, for your own main.
//
//   int main(int argc, char** argv) {
//     auto config = beryl::app::config_from_command_line(argc, argv);  // exits on --help or errors
//     auto routes = std::make_shared<beryl::router>();
//     routes->add<my_channel>("room:*");
//     return beryl::app::serve(config, routes, {});
//   }
#include "actors/router.hpp"
#include "app/runtime/config.hpp"
#include "app/runtime/endpoint.hpp"
#include "supervision/child_spec.hpp"
#include "transport/listener.hpp"

#include <memory>
#include <vector>

namespace beryl::app {

// Parses the command line and BERYL_* variables; prints help or errors and exits when asked.
// --help names the program as it was started and lists the app's own options after the server's.
server_config config_from_command_line(int argc, char** argv,
                                       std::vector<app_option> app_options = {});

// Serves until SIGINT or SIGTERM, then shuts down gracefully (drain, then the tree in order).
// Returns the process's exit status; but when actors spawned outside the tree are still running
// 3 s after it stopped, it logs how many and ends the process with that status instead (they
// would block the actor system's shutdown forever).
// With an `endpoint`, the app's own code can broadcast while the server runs (see endpoint.hpp).
// `services` are the app's own actors (state that outlives a channel): supervised one_for_one
// under "services", started before any channel and stopped after every channel (tree.hpp).
// Register a spec (`registered = true`) to find its current incarnation with
// supervision::lookup(system(), name), from a channel or anywhere.
int serve(const server_config& config, std::shared_ptr<const router> routes, server_hooks hooks,
          std::shared_ptr<endpoint> app_endpoint = nullptr,
          std::vector<supervision::child_spec> services = {});

}  // namespace beryl::app
