#include "actors/outbox_writers.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace beryl {
namespace {

// Large enough that a writer's message costs little beside its writes, small enough that every
// writer gets a share of a big room's broadcast (a 2,000-member room: 32 chunks) and that the
// actors waiting between two chunks do not wait long.
constexpr std::size_t chunk = 64;

class outbox_writer : public outbox_writer_actor::base {
 public:
  using outbox_writer_actor::base::base;

  // One chunk per turn, then the writer goes to the back of its thread's queue: a big room's
  // writes would otherwise hold every actor thread while the joins wait (docs/architecture.md
  // §3.2).
  caf::resumable::resume_result resume(caf::execution_unit* unit, std::size_t) override {
    return outbox_writer_actor::base::resume(unit, 1);
  }

  behavior_type make_behavior() override {
    return {
        [](atoms::flush, const std::shared_ptr<write_request>& request) { request->write(); },
    };
  }
};

}  // namespace

void write_request::write() {
  for (const auto& out : outboxes_) out->write_queued();
  outboxes_.clear();
}

void outbox_writers::batch::add(std::shared_ptr<outbox> out) {
  outboxes_.push_back(std::move(out));
  if (outboxes_.size() == chunk) hand_out();
}

void outbox_writers::batch::hand_out() {
  if (outboxes_.empty()) return;
  writers_.write(std::move(outboxes_));
  outboxes_.clear();
}

void outbox_writers::write(outbox_list outboxes) {
  auto request = std::make_shared<write_request>(std::move(outboxes));
  if (writers_.empty())
    request->write();
  else
    caf::anon_send(writers_[next_++ % writers_.size()], atoms::flush::value, std::move(request));
}

outbox_writers spawn_outbox_writers(caf::actor_system& sys, std::size_t count) {
  std::vector<outbox_writer_actor> writers;
  for (std::size_t i = 0; i < count; ++i) writers.push_back(sys.spawn<outbox_writer>());
  return outbox_writers{std::move(writers)};
}

}  // namespace beryl
