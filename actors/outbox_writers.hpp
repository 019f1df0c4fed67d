#pragma once
// Writer actors for what broadcasts leave queued on outboxes (outbox::send_deferred). A pubsub
// shard hands a broadcast's writes to them in chunks, so that a broadcast to thousands of
// subscribers is written by every actor thread: neither the shard, which answers its topics'
// joins, nor the network thread, which reads them, stops for it (docs/architecture.md §3.2).
#include "actors/atoms.hpp"
#include "core/outbox.hpp"

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace beryl {

using outbox_list = std::vector<std::shared_ptr<outbox>>;

// Outboxes that asked for a write (send_deferred returned true). Whatever is still unwritten when
// the last reference goes is written then, by that thread: a writer stopped with these in its
// mailbox (a pubsub restart) must not leave a connection waiting for a write that never comes.
class write_request {
 public:
  explicit write_request(outbox_list outboxes) : outboxes_(std::move(outboxes)) {}
  write_request(const write_request&) = delete;
  write_request& operator=(const write_request&) = delete;
  ~write_request() { write(); }

  void write();

 private:
  outbox_list outboxes_;
};

using outbox_writer_actor =
    caf::typed_actor<caf::reacts_to<atoms::flush, std::shared_ptr<write_request>>>;

// The writers, taken in turn. Without any, the outboxes are written by the caller.
class outbox_writers {
 public:
  outbox_writers() = default;
  explicit outbox_writers(std::vector<outbox_writer_actor> writers)
      : writers_(std::move(writers)) {}

  const std::vector<outbox_writer_actor>& actors() const { return writers_; }
  // Hands these outboxes to the next writer.
  void write(outbox_list outboxes);

  // The outboxes one broadcast left to write, handed out a chunk at a time, the rest when it ends.
  class batch {
   public:
    explicit batch(outbox_writers& writers) : writers_(writers) {}
    batch(const batch&) = delete;
    batch& operator=(const batch&) = delete;
    ~batch() { hand_out(); }

    void add(std::shared_ptr<outbox> out);

   private:
    void hand_out();

    outbox_writers& writers_;
    outbox_list outboxes_;
  };

 private:
  std::vector<outbox_writer_actor> writers_;
  std::size_t next_ = 0;
};

outbox_writers spawn_outbox_writers(caf::actor_system& sys, std::size_t count);

}  // namespace beryl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<beryl::write_request>)
