// beryl-server: the Phoenix-compatible channel server, serving the demo (room:*, bench:*).
#include "app/demo/demo.hpp"
#include "app/runtime/server.hpp"

#ifndef BERYL_DEFAULT_STATIC_DIR
#define BERYL_DEFAULT_STATIC_DIR "app/demo/web"
#endif

int main(int argc, char** argv) {
  std::string static_dir = BERYL_DEFAULT_STATIC_DIR;
  auto config = beryl::app::config_from_command_line(
      argc, argv,
      {{"static-dir", "DIR", "where the demo page and phoenix.js are served from",
        [&](const std::string& dir) {
          if (!dir.empty()) static_dir = dir;
        }}});
  auto routes = std::make_shared<beryl::router>();
  beryl::app::add_demo_channels(*routes);
  auto endpoint = std::make_shared<beryl::app::endpoint>();
  beryl::server_hooks hooks;
  hooks.on_connect = beryl::app::demo_connect;
  hooks.http = beryl::first_of({beryl::app::static_files(static_dir),
                                beryl::app::demo_api(endpoint, config.transport.check_origin)});
  return beryl::app::serve(config, routes, std::move(hooks), endpoint);
}
