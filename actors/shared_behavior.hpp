#pragma once
// For an actor kind of which every connection has one (the socket, the channel): all its actors
// share one behavior, built once and capturing nothing, instead of each holding a copy (CAF
// allocates a behavior's handlers per actor: 248 B for a channel's five; docs/architecture.md
// §3.3). A handler finds its actor with running(): the actor of this kind whose messages this
// thread is handling, recorded by resume(), through which CAF runs every handler.
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>

#include <cstddef>
#include <utility>

namespace beryl {

template <class Self, class Base>
class with_shared_behavior : public Base {
 public:
  using Base::Base;

  caf::resumable::resume_result resume(caf::execution_unit* unit,
                                       std::size_t max_throughput) final {
    running_scope scope{std::exchange(running_, static_cast<Self*>(this))};
    return Base::resume(unit, max_throughput);
  }

 protected:
  // Only inside a handler of the shared behavior.
  static Self& running() { return *running_; }

 private:
  struct running_scope {
    Self* outer;
    ~running_scope() { running_ = outer; }
  };

  static inline thread_local Self* running_ = nullptr;
};

}  // namespace beryl
