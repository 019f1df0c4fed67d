// A tiny app outside the tree: one channel on the installed runtime.
#include "app/runtime/server.hpp"

class echo_channel : public beryl::channel {
 public:
  using channel::channel;

 protected:
  beryl::reply join(const beryl::payload&) override {
    return beryl::reply::ok({{"hello", topic()}});
  }
  std::optional<beryl::reply> handle_in(const std::string&, const beryl::payload& body) override {
    return beryl::reply::ok(body);
  }
};

int main(int argc, char** argv) {
  auto config = beryl::app::config_from_command_line(argc, argv);
  auto routes = std::make_shared<beryl::router>();
  routes->add<echo_channel>("echo:*");
  return beryl::app::serve(config, routes, {});
}
