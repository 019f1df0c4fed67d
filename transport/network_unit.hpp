#pragma once
// Transport-internal: lets a network thread run the actors its reads wake, instead of handing
// them to the actor threads (docs/architecture.md §3.1; what it gained: §3.3). A client message
// wakes its socket actor, which wakes the channel; both then run on the network thread right after
// the read, and the channel's reply is written from there: no thread hand-off, no sleeping thread
// to wake.
//
// Only those two levels run here. Whatever they wake in turn (a pubsub or presence shard, a
// supervisor, the socket's answer to a join) goes to the actor threads, and so does an actor with
// more messages than one slice, so that no actor's work keeps the thread from its other
// connections for long.
#include <caf/actor_cast.hpp>
#include <caf/execution_unit.hpp>
#include <caf/message.hpp>
#include <caf/resumable.hpp>
#include <caf/send.hpp>

#include <utility>
#include <vector>

namespace beryl {

class network_unit final : public caf::execution_unit {
 public:
  // The calling network thread's unit; nullptr on any other thread.
  static network_unit* current();
  // Each network thread calls it once, before running the io_context.
  void bind_to_this_thread();

  // Sends `xs` to `receiver` from no actor, as caf::anon_send does; if that wakes `receiver`, this
  // thread runs it when the current turn ends.
  template <class Handle, class... Ts>
  void deliver(const Handle& receiver, Ts&&... xs) {
    using token = caf::detail::type_list<caf::detail::strip_and_convert_t<Ts>...>;
    static_assert(caf::response_type_unbox<caf::signatures_of_t<Handle>, token>::valid,
                  "receiver does not accept given message");
    enqueue(caf::actor_cast<caf::abstract_actor*>(receiver),
            caf::make_message(std::forward<Ts>(xs)...));
  }

  // caf::execution_unit: an actor this thread runs, or a message it delivered, woke `job`.
  void exec_later(caf::resumable* job) override;

  // The span of one network event (a read): the actors it woke run when the turn ends.
  class turn {
   public:
    explicit turn(network_unit* unit) : unit_(unit) {}
    ~turn();
    turn(const turn&) = delete;
    turn& operator=(const turn&) = delete;

   private:
    network_unit* unit_;
  };

 private:
  struct woken {
    caf::resumable* job;
    int depth;  // 0: woken by the network event, 1: by an actor of depth 0
  };
  void enqueue(caf::abstract_actor* receiver, caf::message content);
  void run_woken();

  std::vector<woken> woken_;
  int running_depth_ = -1;  // the depth of the actor running now; -1: none
};

}  // namespace beryl
