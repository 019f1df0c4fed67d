#pragma once
// Transport-internal: the Asio/Beast side of a listener, behind an interface free of Beast types
// so that only server.cpp compiles Beast.
#include "actors/socket_deps.hpp"
#include "transport/io_runtime.hpp"
#include "transport/server_hooks.hpp"
#include "transport/settings.hpp"

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <memory>

namespace beryl {

class beast_listener {
 public:
  virtual ~beast_listener() = default;
  virtual std::uint16_t port() const = 0;
  virtual std::size_t connections() const = 0;
  virtual std::uint64_t accepted() const = 0;
  // Stops accepting, stops every socket actor with `reason` and closes with `close_code`.
  virtual void stop(const caf::error& reason, std::uint16_t close_code) = 0;
  // Refuses new connections from now on (503), and closes up to `batch` open WebSocket
  // connections with 1012, then ends long-poll sessions within what is left of the batch;
  // returns how many connections and sessions are still open and not closing.
  virtual std::size_t drain(std::size_t batch) = 0;
};

std::shared_ptr<beast_listener> make_beast_listener(caf::actor_system& sys, io_runtime& io,
                                                    transport_settings settings, server_hooks hooks,
                                                    std::shared_ptr<const socket_deps> deps);

}  // namespace beryl
