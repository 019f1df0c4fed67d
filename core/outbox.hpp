#pragma once
// Where a connection's outbound frames go. The transport implements it; any actor (socket,
// channel, pubsub shard) may call it from any thread.
#include "core/close_code.hpp"
#include "core/frame.hpp"

#include <cstdint>
#include <string>

namespace beryl {

class outbox {
 public:
  virtual ~outbox() = default;
  // Queue a frame; frames from one caller reach the wire in call order. Frames queued together
  // leave in one write: broadcasts use this.
  virtual void send(frame f) = 0;
  // A frame for this client alone that it is waiting for (a reply, a push): a transport may
  // write it from the caller's thread at once when nothing is queued. Same ordering as send().
  virtual void send_now(frame f) { send(std::move(f)); }
  // Queues `f` as send() does, with the same ordering. True when the transport leaves the writing
  // of what is queued to the caller, which then calls write_queued() soon, from any thread: a
  // broadcast's writes can so be shared out among threads. A transport may keep frames it
  // writes better itself (small ones, which coalesce).
  virtual bool send_deferred(frame f) {
    send(std::move(f));
    return false;
  }
  // Writes what is queued from the calling thread, once for each send_deferred() that was true.
  virtual void write_queued() {}
  // Close the connection with `code` (close_code.hpp) after the frames already queued.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

}  // namespace beryl
