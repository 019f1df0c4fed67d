#include "actors/outbox_writers.hpp"
#include "actor_test_support.hpp"
#include "actors/atoms.hpp"
#include "actors/pubsub.hpp"
#include "core/json_serializer.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <future>

namespace json = boost::json;
using namespace beryl;
using testing::eventually;
using namespace std::chrono_literals;

namespace {

// Leaves the writing of what is queued to its caller, as a WebSocket connection does with large
// broadcasts: the first frame since the last write_queued() asks for one.
class deferring_outbox : public testing::recording_outbox {
 public:
  bool send_deferred(frame f) override {
    send(std::move(f));
    return !write_asked_.exchange(true);
  }
  void write_queued() override {
    frames_when_written_ = count();
    write_asked_ = false;
    ++writes_;
  }
  int writes() const { return writes_; }
  std::size_t frames_when_written() const { return frames_when_written_; }

 private:
  std::atomic<bool> write_asked_{false};
  std::atomic<int> writes_{0};
  std::atomic<std::size_t> frames_when_written_{0};
};

std::vector<std::shared_ptr<deferring_outbox>> make_outboxes(std::size_t n) {
  std::vector<std::shared_ptr<deferring_outbox>> outboxes;
  for (std::size_t i = 0; i < n; ++i) outboxes.push_back(std::make_shared<deferring_outbox>());
  return outboxes;
}

}  // namespace

TEST_CASE("without writer actors, a batch writes in the caller, a chunk of 64 at a time") {
  outbox_writers none;
  auto outboxes = make_outboxes(100);
  {
    outbox_writers::batch batch{none};
    for (std::size_t i = 0; i < 64; ++i) batch.add(outboxes[i]);
    for (std::size_t i = 0; i < 64; ++i) CHECK(outboxes[i]->writes() == 1);
    for (std::size_t i = 64; i < 100; ++i) batch.add(outboxes[i]);
    for (std::size_t i = 64; i < 100; ++i) CHECK(outboxes[i]->writes() == 0);
  }
  for (const auto& out : outboxes) CHECK(out->writes() == 1);
}

TEST_CASE(
    "a broadcast to 2,000 members that leave the writing to the caller is written once each") {
  testing::test_actor_system f;
  caf::scoped_actor self{*f.sys};
  auto pubsub = spawn_pubsub(*f.sys, 1);
  wire::v2_serializer v2;
  auto outboxes = make_outboxes(2000);
  for (std::uint64_t i = 0; i < outboxes.size(); ++i) {
    bool ok = false;
    self->request(pubsub.shards.shard_for("room:big"), 5s, atoms::subscribe::value,
                  std::string("room:big"), subscription{i + 1, outboxes[i], &v2, {}, nullptr},
                  frame{})
        .receive([&](caf::ok_atom) { ok = true; }, [](caf::error&) {});
    REQUIRE(ok);
  }
  pubsub.shards.broadcast("room:big", "shout", json::value(json::object{{"n", 1}}));
  REQUIRE(eventually([&] {
    for (const auto& out : outboxes)
      if (out->writes() != 1) return false;
    return true;
  }));
  for (const auto& out : outboxes) {
    CHECK(out->count() == 1);
    CHECK(out->frames_when_written() == 1);  // written after its frame was queued
  }
  // A second broadcast asks again, and is written again.
  pubsub.shards.broadcast("room:big", "shout", json::value(json::object{{"n", 2}}));
  REQUIRE(eventually([&] {
    for (const auto& out : outboxes)
      if (out->writes() != 2 || out->frames_when_written() != 2) return false;
    return true;
  }));
  self->send_exit(pubsub.owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("outboxes handed to a writer that has stopped are written all the same") {
  testing::test_actor_system f;
  caf::scoped_actor self{*f.sys};
  auto writers = spawn_outbox_writers(*f.sys, 1);
  const auto& writer = writers.actors().front();
  self->send_exit(writer, caf::exit_reason::user_shutdown);
  self->wait_for(writer);
  auto out = std::make_shared<deferring_outbox>();
  REQUIRE(out->send_deferred(frame::text("x")));
  writers.write({out});
  CHECK(eventually([&] { return out->writes() == 1; }));
}

TEST_CASE(
    "a writer writes one request per turn, so the actors waiting for its thread run between") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system sys{cfg};
  std::atomic<int> clock{0};
  // Each outbox notes when it was written, on the clock shared with the bystander below.
  class timed_outbox : public deferring_outbox {
   public:
    explicit timed_outbox(std::atomic<int>& clock) : clock_(clock) {}
    void write_queued() override {
      deferring_outbox::write_queued();
      written_at = ++clock_;
    }
    std::atomic<int> written_at{0};

   private:
    std::atomic<int>& clock_;
  };
  auto writers = spawn_outbox_writers(sys, 1);
  // The one actor thread is held while the writer's requests and the bystander's message queue.
  std::promise<void> entered, release;
  auto gate = sys.spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {[&](caf::ok_atom) {
      entered.set_value();
      release.get_future().wait();
    }};
  });
  caf::anon_send(gate, caf::ok_atom::value);
  entered.get_future().wait();
  std::vector<std::shared_ptr<timed_outbox>> outboxes;
  for (int i = 0; i < 4; ++i) {
    outboxes.push_back(std::make_shared<timed_outbox>(clock));
    REQUIRE(outboxes.back()->send_deferred(frame::text("x")));
    writers.write({outboxes.back()});
  }
  std::atomic<int> bystander_ran_at{0};
  auto bystander = sys.spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {[&](caf::ok_atom) { bystander_ran_at = ++clock; }};
  });
  caf::anon_send(bystander, caf::ok_atom::value);
  release.set_value();
  REQUIRE(eventually([&] { return outboxes.back()->written_at != 0 && bystander_ran_at != 0; }));
  CHECK(outboxes.front()->written_at == 1);
  CHECK(bystander_ran_at == 2);
  for (std::size_t i = 1; i < outboxes.size(); ++i)
    CHECK(outboxes[i]->written_at == static_cast<int>(i) + 2);
}
