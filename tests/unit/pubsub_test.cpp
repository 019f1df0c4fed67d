#include "actors/pubsub.hpp"
#include "actor_test_support.hpp"
#include "actors/atoms.hpp"
#include "core/json_serializer.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace json = boost::json;
using namespace beryl;
using testing::eventually;
using testing::recording_outbox;
using namespace std::chrono_literals;

namespace {

// V2, counting how often a broadcast is encoded.
class counting_serializer : public serializer {
 public:
  mutable std::atomic<int> broadcasts{0};
  std::string_view name() const override { return v2_.name(); }
  decode_result decode(std::string_view data, bool binary) const override {
    return v2_.decode(data, binary);
  }
  frame reply(const ref_t& j, const ref_t& r, std::string_view t, std::string_view s,
              const payload& p) const override {
    return v2_.reply(j, r, t, s, p);
  }
  frame push(const ref_t& j, std::string_view t, std::string_view e,
             const payload& p) const override {
    return v2_.push(j, t, e, p);
  }
  frame push_text(const ref_t& j, std::string_view t, std::string_view e,
                  std::shared_ptr<const std::string> text) const override {
    return v2_.push_text(j, t, e, std::move(text));
  }
  frame broadcast(std::string_view topic, std::string_view event,
                  const payload& body) const override {
    ++broadcasts;
    return v2_.broadcast(topic, event, body);
  }
  frame control(const ref_t& j, std::string_view t, std::string_view e,
                const json::object& b) const override {
    return v2_.control(j, t, e, b);
  }
  bool supports_binary() const override { return true; }

 private:
  wire::v2_serializer v2_;
};

struct fixture : testing::test_actor_system {
  pubsub_ref start(pubsub_actor& owner) {
    auto handle = spawn_pubsub(*sys, 2);
    owner = handle.owner;
    auto ref = handle.shards;
    REQUIRE(ref.valid());
    return ref;
  }
  void subscribe(caf::scoped_actor& self, const pubsub_ref& ps, const std::string& topic,
                 subscription s) {
    bool ok = false;
    self->request(ps.shard_for(topic), 5s, atoms::subscribe::value, topic, std::move(s), frame{})
        .receive([&](caf::ok_atom) { ok = true; }, [](caf::error&) {});
    REQUIRE(ok);
  }
};

}  // namespace

TEST_CASE("a broadcast to 2,000 subscribers is encoded once and shares one buffer") {
  fixture f;
  caf::scoped_actor self{*f.sys};
  pubsub_actor owner;
  auto ps = f.start(owner);
  counting_serializer format;
  std::vector<std::shared_ptr<recording_outbox>> outboxes;
  for (std::uint64_t i = 1; i <= 2000; ++i) {
    outboxes.push_back(std::make_shared<recording_outbox>());
    f.subscribe(self, ps, "room:big", subscription{i, outboxes.back(), &format, {}, nullptr});
  }
  ps.broadcast("room:big", "shout", json::value(json::object{{"n", 1}}));
  REQUIRE(eventually([&] {
    for (auto& o : outboxes)
      if (o->count() != 1) return false;
    return true;
  }));
  CHECK(format.broadcasts == 1);
  const std::string* shared = outboxes.front()->frames().front().bytes.get();
  for (auto& o : outboxes) CHECK(o->frames().front().bytes.get() == shared);
  CHECK(*shared == R"([null,null,"room:big","shout",{"n":1}])");
  self->send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("broadcast_from skips its sender; unsubscribed and other topics get nothing") {
  fixture f;
  caf::scoped_actor self{*f.sys};
  pubsub_actor owner;
  auto ps = f.start(owner);
  auto sender = std::make_shared<recording_outbox>(), other = std::make_shared<recording_outbox>(),
       gone = std::make_shared<recording_outbox>(),
       elsewhere = std::make_shared<recording_outbox>();
  const serializer* v2 = [] {
    static const std::string vsn = "2.0.0";
    return wire::serializer_for_vsn(&vsn);
  }();
  f.subscribe(self, ps, "t", subscription{1, sender, v2, {}, nullptr});
  f.subscribe(self, ps, "t", subscription{2, other, v2, {}, nullptr});
  f.subscribe(self, ps, "t", subscription{3, gone, v2, {}, nullptr});
  f.subscribe(self, ps, "t2", subscription{4, elsewhere, v2, {}, nullptr});
  self->send(ps.shard_for("t"), atoms::unsubscribe::value, std::string("t"), std::uint64_t{3});
  ps.broadcast("t", "e", json::value(json::object{}), /*except=*/1);
  ps.broadcast("t", "last", json::value(json::object{}));
  REQUIRE(eventually([&] { return other->count() == 2 && sender->count() == 1; }));
  std::this_thread::sleep_for(50ms);
  CHECK(sender->count() == 1);
  CHECK(gone->count() == 0);
  CHECK(elsewhere->count() == 0);
  self->send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("an intercepted event goes to the channel actor instead of the outbox") {
  fixture f;
  caf::scoped_actor self{*f.sys};
  pubsub_actor owner;
  auto ps = f.start(owner);
  auto out = std::make_shared<recording_outbox>();
  const serializer* v2 = [] {
    static const std::string vsn = "2.0.0";
    return wire::serializer_for_vsn(&vsn);
  }();
  auto events =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"secret"});
  f.subscribe(self, ps, "t",
              subscription{7, out, v2, caf::actor_cast<event_receiver>(self), events});
  ps.broadcast("t", "secret", json::value(json::object{{"k", "v"}}));
  ps.broadcast("t", "public", json::value(json::object{}));
  std::string got;
  self->receive(
      [&](atoms::out, const std::string& event, const payload& body) {
        got = event;
        CHECK(std::get<json::value>(body) == json::value(json::object{{"k", "v"}}));
      },
      caf::after(5s) >> [] {});
  CHECK(got == "secret");
  REQUIRE(eventually([&] { return out->count() == 1; }));
  CHECK(out->frames().front().bytes->find("public") != std::string::npos);
  self->send_exit(owner, caf::exit_reason::user_shutdown);
}
