#pragma once
// The tiny app's one channel.
#include "actors/channel.hpp"

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
