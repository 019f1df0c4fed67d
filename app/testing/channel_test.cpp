#include "app/testing/channel_test.hpp"

#include "actors/presence.hpp"
#include "actors/stop_reason.hpp"
#include "core/json_serializer.hpp"
#include "core/outbox.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace beryl::testing {
namespace {

const serializer& v2_format() {
  static const wire::v2_serializer format;
  return format;
}

std::string ref_text(const std::optional<std::string>& ref) {
  return ref ? "\"" + *ref + "\"" : "null";
}

// A push to this client has its join's ref; a broadcast has none.
bool is_push(const client_message& m, const std::string& topic, const std::string& event) {
  return m.topic == topic && m.event == event && m.join_ref && !m.ref;
}

bool is_broadcast(const client_message& m, const std::string& topic, const std::string& event) {
  return m.topic == topic && m.event == event && !m.join_ref && !m.ref;
}

std::string body_text(const payload& body) {
  if (auto* bin = std::get_if<binary>(&body))
    return "<" + std::to_string(bin->bytes.size()) + " bytes>";
  return boost::json::serialize(std::get<boost::json::value>(body));
}

// What the client receives: every frame, read back as phoenix.js reads it, and waited for.
class recording_outbox final : public outbox {
 public:
  using match = std::function<bool(const client_message&)>;

  void send(frame f) override {
    auto m = read(f);
    if (!m) return;  // not a frame of the V2 serializer: cannot happen
    {
      std::lock_guard lock(mutex_);
      all_.push_back(*m);
      unread_.push_back(std::move(*m));
    }
    changed_.notify_all();
  }

  void close(std::uint16_t, std::string) override {}

  // The first unread message that matches, taken out of the unread ones (as assert_receive
  // takes it from the mailbox), waiting up to `wait` for it.
  std::optional<client_message> take(const match& wanted, std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    std::optional<client_message> found;
    changed_.wait_for(lock, wait, [&] {
      for (auto it = unread_.begin(); it != unread_.end(); ++it) {
        if (!wanted(*it)) continue;
        found = std::move(*it);
        unread_.erase(it);
        return true;
      }
      return false;
    });
    return found;
  }

  std::vector<client_message> all() const {
    std::lock_guard lock(mutex_);
    return {all_.begin(), all_.end()};
  }

  std::string unread_text() const {
    std::lock_guard lock(mutex_);
    if (unread_.empty()) return "nothing";
    std::string out;
    for (const auto& m : unread_) out += "\n  " + m.describe();
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<client_message> all_;
  std::deque<client_message> unread_;

  static std::optional<client_message> read(const frame& f) {
    if (f.binary) {
      auto decoded = wire::decode_server_binary(f.contents());
      if (!decoded) return std::nullopt;
      auto& m = decoded->m;
      return client_message{std::move(m.join_ref), std::move(m.ref),
                            std::move(m.topic),    std::move(m.event),
                            std::move(m.body),     std::move(decoded->reply_status)};
    }
    auto decoded = v2_format().decode(f.contents(), false);
    auto* m = std::get_if<message>(&decoded);
    if (!m) return std::nullopt;
    client_message out{std::move(m->join_ref), std::move(m->ref),  std::move(m->topic),
                       std::move(m->event),    std::move(m->body), {}};
    if (out.event != events::reply) return out;
    // {"status": S, "response": R}: the status apart, R as the body.
    auto* reply = as_object(out.body);
    auto* status = reply ? reply->if_contains("status") : nullptr;
    auto* response = reply ? reply->if_contains("response") : nullptr;
    if (status && status->is_string()) out.status = std::string(status->as_string());
    out.body = response ? *response : boost::json::value(boost::json::object{});
    return out;
  }
};

}  // namespace

std::string client_message::describe() const {
  return "[" + ref_text(join_ref) + ", " + ref_text(ref) + ", \"" + topic + "\", \"" + event +
         "\", " + (status.empty() ? "" : "status " + status + ": ") + body_text(body) + "]";
}

struct test_socket::state {
  std::shared_ptr<recording_outbox> out = std::make_shared<recording_outbox>();
  // What is broadcast on the topics this socket joined, as the topic's subscribers get it before
  // any intercept: the kit subscribes to each, as subscribe_and_join subscribes the test process.
  std::shared_ptr<recording_outbox> broadcasts = std::make_shared<recording_outbox>();
  std::unordered_set<std::string> recorded_topics;
  caf::actor_system* sys = nullptr;
  pubsub_ref pubsub;
  std::uint64_t recorder_id = 0;
  socket_actor socket;
  std::mutex mutex;
  std::uint64_t next_ref = 0;
  std::unordered_map<std::string, std::string> join_refs;  // topic -> its current join's ref

  std::string new_ref() {
    std::lock_guard lock(mutex);
    return std::to_string(++next_ref);
  }

  std::optional<std::string> join_ref_of(const std::string& topic) {
    std::lock_guard lock(mutex);
    auto it = join_refs.find(topic);
    return it == join_refs.end() ? std::nullopt : std::optional<std::string>(it->second);
  }

  void send(ref_t join_ref, ref_t ref, const std::string& topic, const std::string& event,
            payload body) {
    caf::anon_send(socket, message{std::move(join_ref), std::move(ref), topic, event,
                                   std::move(body), nullptr});
  }

  client_message expect(const recording_outbox::match& wanted, std::chrono::milliseconds wait,
                        const std::string& what) {
    return expect(*out, wanted, wait, what);
  }

  client_message expect(recording_outbox& from, const recording_outbox::match& wanted,
                        std::chrono::milliseconds wait, const std::string& what) {
    if (auto m = from.take(wanted, wait)) return *m;
    throw expectation_failed("expected " + what + " within " + std::to_string(wait.count()) +
                             " ms; unread: " + from.unread_text());
  }

  void refute(recording_outbox& from, const recording_outbox::match& unwanted,
              std::chrono::milliseconds wait, const std::string& what) {
    if (auto m = from.take(unwanted, wait))
      throw expectation_failed("expected no " + what + "; got " + m->describe());
  }

  // Subscribes `broadcasts` to `topic` (once), before the join, so that no broadcast is missed.
  void record_broadcasts(const std::string& topic, std::chrono::milliseconds wait) {
    {
      std::lock_guard lock(mutex);
      if (!recorded_topics.insert(topic).second) return;
    }
    caf::scoped_actor self{*sys};
    subscription recorder{recorder_id, broadcasts, &v2_format(), {}, nullptr, false};
    self->request(pubsub.shard_for(topic), wait, atoms::subscribe::value, topic,
                  std::move(recorder), frame{})
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) {
                   throw expectation_failed("could not record the broadcasts of " + topic + ": " +
                                            caf::to_string(err));
                 });
  }
};

struct channel_test::impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  pubsub_handle pubsub;
  presence_handle presence;
  std::shared_ptr<router> routes = std::make_shared<router>();
  socket_settings settings;
  std::shared_ptr<const socket_deps> deps;
  std::vector<socket_actor> sockets;
};

channel_test::channel_test(socket_settings settings) : impl_(std::make_unique<impl>()) {
  impl_->cfg.set("scheduler.max-threads", 2);
  impl_->cfg.add_error_category(stop_category, render_stop_code);
  impl_->sys = std::make_unique<caf::actor_system>(impl_->cfg);
  impl_->pubsub = spawn_pubsub(*impl_->sys, 1);
  presence_settings presence;
  presence.max_meta_bytes = settings.max_presence_meta;
  impl_->presence = spawn_presence(*impl_->sys, impl_->pubsub.shards, presence);
  impl_->settings = std::move(settings);
}

channel_test::~channel_test() {
  // As a transport does when its connections end; then the rest, and wait for all of it.
  for (auto& s : impl_->sockets)
    send_stop(caf::actor_cast<caf::actor>(s), make_error(stop_code::closed));
  caf::anon_send_exit(impl_->presence.owner, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->pubsub.owner, caf::exit_reason::user_shutdown);
}

router& channel_test::routes() {
  return *impl_->routes;
}
caf::actor_system& channel_test::system() {
  return *impl_->sys;
}
const pubsub_ref& channel_test::pubsub() const {
  return impl_->pubsub.shards;
}

test_socket channel_test::connect(boost::json::object assigns, std::optional<std::string> id) {
  if (!impl_->deps) {
    auto deps = std::make_shared<socket_deps>();
    deps->routes = impl_->routes;
    deps->pubsub = impl_->pubsub.shards;
    deps->presence = impl_->presence.shards;
    deps->settings = impl_->settings;
    impl_->deps = std::move(deps);
  }
  auto s = std::make_shared<test_socket::state>();
  s->sys = impl_->sys.get();
  s->pubsub = impl_->pubsub.shards;
  // Far from any actor id: broadcast_from, which skips a channel's id, never skips it.
  s->recorder_id = (std::uint64_t{1} << 62) + impl_->sockets.size();
  auto info = std::make_shared<socket_info>();
  info->out = s->out;
  info->format = &v2_format();
  info->id = std::move(id);
  info->assigns = std::move(assigns);
  info->transport = "websocket";
  info->peer = "127.0.0.1:" + std::to_string(40000 + impl_->sockets.size());
  s->socket = spawn_socket(*impl_->sys, std::move(info), impl_->deps);
  impl_->sockets.push_back(s->socket);
  return test_socket(std::move(s));
}

reply test_socket::join(const std::string& topic, boost::json::object params,
                        std::chrono::milliseconds wait) {
  auto ref = state_->new_ref();
  {
    std::lock_guard lock(state_->mutex);
    state_->join_refs[topic] = ref;
  }
  state_->record_broadcasts(topic, wait);
  state_->send(ref, ref, topic, events::join, boost::json::value(std::move(params)));
  auto m = state_->expect(
      [&](const client_message& m) { return m.event == events::reply && m.ref == ref; }, wait,
      "the reply to joining " + topic);
  return {std::move(m.status), std::move(m.body)};
}

std::string test_socket::push(const std::string& topic, const std::string& event, payload body) {
  auto ref = state_->new_ref();
  state_->send(state_->join_ref_of(topic), ref, topic, event, std::move(body));
  return ref;
}

std::string test_socket::leave(const std::string& topic) {
  auto ref = state_->new_ref();
  state_->send(state_->join_ref_of(topic), ref, topic, events::leave, boost::json::object{});
  return ref;
}

void test_socket::close() {
  send_stop(caf::actor_cast<caf::actor>(state_->socket), make_error(stop_code::closed));
}

}  // namespace beryl::testing

namespace beryl::testing {

payload test_socket::expect_reply(const std::string& ref, const std::string& status,
                                  std::chrono::milliseconds wait) {
  auto m = state_->expect(
      [&](const client_message& m) { return m.event == events::reply && m.ref == ref; }, wait,
      "a reply to ref " + ref);
  if (m.status != status)
    throw expectation_failed("expected the reply to ref " + ref + " to be " + status + ", got " +
                             m.describe());
  return std::move(m.body);
}

payload test_socket::expect_push(const std::string& topic, const std::string& event,
                                 std::chrono::milliseconds wait) {
  return state_
      ->expect([&](const client_message& m) { return is_push(m, topic, event); }, wait,
               "a push of " + event + " on " + topic)
      .body;
}

payload test_socket::expect_broadcast(const std::string& topic, const std::string& event,
                                      std::chrono::milliseconds wait) {
  return state_
      ->expect(
          *state_->broadcasts,
          [&](const client_message& m) { return is_broadcast(m, topic, event); }, wait,
          "a broadcast of " + event + " on " + topic)
      .body;
}

void test_socket::refute_push(const std::string& topic, const std::string& event,
                              std::chrono::milliseconds wait) {
  state_->refute(
      *state_->out, [&](const client_message& m) { return is_push(m, topic, event); }, wait,
      "push of " + event + " on " + topic);
}

void test_socket::refute_broadcast(const std::string& topic, const std::string& event,
                                   std::chrono::milliseconds wait) {
  state_->refute(
      *state_->broadcasts, [&](const client_message& m) { return is_broadcast(m, topic, event); },
      wait, "broadcast of " + event + " on " + topic);
}

void test_socket::expect_crash(const std::string& topic, std::chrono::milliseconds wait) {
  auto join_ref = state_->join_ref_of(topic);
  state_->expect(
      [&](const client_message& m) {
        return m.event == events::error && m.topic == topic && m.join_ref == join_ref;
      },
      wait, "phx_error on " + topic + " (a crash)");
}

void test_socket::expect_close(const std::string& topic, std::chrono::milliseconds wait) {
  auto join_ref = state_->join_ref_of(topic);
  state_->expect(
      [&](const client_message& m) {
        return m.event == events::close && m.topic == topic && m.join_ref == join_ref;
      },
      wait, "phx_close on " + topic);
}

boost::json::object test_socket::expect_presence_state(const std::string& topic,
                                                       std::chrono::milliseconds wait) {
  auto body = expect_push(topic, "presence_state", wait);
  return *as_object(body);
}

boost::json::object test_socket::expect_presence_diff(const std::string& topic,
                                                      std::chrono::milliseconds wait) {
  // As this client gets them (a diff it needs not, for changes its presence_state holds, it never
  // gets): broadcast frames in its own stream.
  auto m = state_->expect(
      [&](const client_message& m) { return is_broadcast(m, topic, "presence_diff"); }, wait,
      "a presence_diff on " + topic);
  return *as_object(m.body);
}

std::vector<client_message> test_socket::received() const {
  return state_->out->all();
}

}  // namespace beryl::testing
