#include "transport/network_unit.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

namespace beryl {
namespace {

thread_local network_unit* this_thread_unit = nullptr;

// Messages an actor may handle in one go on a network thread before the actor threads take over.
constexpr std::size_t slice = 32;
// Actors woken by those the network event woke still run here; deeper ones do not.
constexpr int max_depth = 1;

}  // namespace

network_unit* network_unit::current() {
  return this_thread_unit;
}

void network_unit::bind_to_this_thread() {
  this_thread_unit = this;
}

void network_unit::enqueue(caf::abstract_actor* receiver, caf::message content) {
  if (!system_) system_ = &receiver->home_system();
  receiver->enqueue(nullptr, caf::make_message_id(), std::move(content), this);
}

void network_unit::exec_later(caf::resumable* job) {
  int depth = running_depth_ + 1;
  if (depth > max_depth) {
    system().scheduler().enqueue(job);  // takes over the reference the waker added
    return;
  }
  woken_.push_back({job, depth});
}

void network_unit::run_woken() {
  // Actors woken meanwhile are appended and run in the same loop.
  for (std::size_t i = 0; i < woken_.size(); ++i) {
    auto [job, depth] = woken_[i];
    running_depth_ = depth;
    switch (job->resume(this, slice)) {
      case caf::resumable::resume_later:
        system().scheduler().enqueue(job);
        break;
      case caf::resumable::done:
      case caf::resumable::awaiting_message:
      case caf::resumable::shutdown_execution_unit:
        intrusive_ptr_release(job);
        break;
    }
  }
  woken_.clear();
  running_depth_ = -1;
}

network_unit::turn::~turn() {
  // A turn inside a turn (not expected) leaves the woken actors to the outer one.
  if (unit_ && unit_->running_depth_ < 0 && !unit_->woken_.empty()) unit_->run_woken();
}

}  // namespace beryl
