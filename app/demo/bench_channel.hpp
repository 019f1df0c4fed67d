#pragma once
// "bench:*": the cheapest path, used by the benchmark suite. No presence, no bookkeeping.
#include "actors/channel.hpp"

namespace beryl::app {

class bench_channel : public beryl::channel {
 public:
  using beryl::channel::channel;

 protected:
  beryl::reply join(const beryl::payload&) override { return beryl::reply::ok(); }

  std::optional<beryl::reply> handle_in(const std::string& event,
                                        const beryl::payload& body) override {
    if (event == "ping") return beryl::reply::ok(body);
    if (event == "shout") broadcast("shout", body);
    return beryl::noreply;
  }
};

}  // namespace beryl::app
