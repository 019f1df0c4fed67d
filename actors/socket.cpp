#include "actors/socket.hpp"

#include "actors/atoms.hpp"
#include "actors/shared_behavior.hpp"
#include "actors/stop_reason.hpp"
#include "core/close_code.hpp"
#include "core/counters.hpp"
#include "core/log_text.hpp"
#include "core/telemetry.hpp"
#include "supervision/messages.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace json = boost::json;

namespace beryl {
namespace {

enum class channel_status { joining, joined, leaving };

struct channel_entry {
  std::string topic;
  ref_t join_ref;
  channel_actor channel;
  channel_status status = channel_status::joining;
  token_bucket rate;  // settings.channel_rate, for this topic
};

struct socket_state {
  std::shared_ptr<const socket_info> info;
  std::shared_ptr<const socket_deps> deps;
  std::vector<channel_entry> channels;  // few per connection: a vector beats a map here
  token_bucket message_rate;            // settings.message_rate, for the whole connection
  bool rate_limited = false;            // said once in the log per connection
  caf::local_actor* self = nullptr;

  // CAF destroys a socket's state when the socket ends, however it ends (a stop, a crash, a kill),
  // with its reason set: its channels end with that reason, the connection is closed and the
  // coordinator forgets the socket. (Links, an attached functor and a monitor did this before:
  // four blocks per connection.)
  ~socket_state();

  static inline const char* name = "socket";
};

// The close code a connection gets when its socket ends first.
std::uint16_t close_code_for(const caf::error& reason) {
  if (stop_reason::from(reason).code == stop_code::crashed) return close_code::internal_error;
  return close_code::going_away;
}

socket_state::~socket_state() {
  if (!self) return;
  // Channels trap exits: each ends with the socket's reason (`closed` for a normal one). Those
  // already let go (replaced, refused, killed) are ending by themselves.
  for (const auto& e : channels) self->send_exit(e.channel, self->fail_state());
  if (deps && deps->coordinator)
    caf::anon_send(deps->coordinator, atoms::forget::value, self->id());
  if (info && info->out) info->out->close(close_code_for(self->fail_state()), "");
}

using socket_self = socket_actor::stateful_pointer<socket_state>;
using clock = std::chrono::steady_clock;

payload object(std::initializer_list<std::pair<json::string_view, json::value_ref>> init) {
  return json::value(json::object(init));
}

// The socket's rules, as a view of its actor: made for each message by the shared behavior
// (actors/shared_behavior.hpp), and copied into the handlers of its requests' answers.
class socket_behavior {
 public:
  explicit socket_behavior(socket_self self) : self_(self) {}

  void on_message(message& m) {
    if (m.event == events::heartbeat && m.topic == events::heartbeat_topic) {
      reply(std::nullopt, m.ref, m.topic, "ok", object({}));
    } else if (m.event == events::leave) {
      on_leave(m);
    } else if (!within_rate(m)) {
      if (m.event == events::join)
        reply(m.join_ref ? m.join_ref : m.ref, m.ref, m.topic, "error",
              object({{"reason", "rate_limited"}}));
    } else if (m.event == events::join) {
      on_join(m);
    } else {
      on_event(m);
    }
  }

  // The transport (anonymous), or any actor telling us to stop: as in Erlang, a normal reason
  // from an actor does not stop us.
  void on_exit(caf::exit_msg& em) {
    if (!em.source || em.reason != caf::exit_reason::normal) self_->quit(em.reason);
  }

  // A channel's end, told by the channel itself. It is an ordinary message, so it waits behind
  // a join or a stop the socket is awaiting: a channel that ends while joining is answered first,
  // and its end is announced after its join reply. Channels let go before (replaced, refused,
  // killed) are no longer in the list: their ends are expected, and ignored.
  void on_channel_ended(const caf::actor_addr& channel, const caf::error& reason) {
    auto e = find_by_address(channel);
    if (e == channels().end()) return;
    announce_end(*e, reason);
    channels().erase(e);
  }

  void on_disconnect() {
    state().info->out->close(close_code::going_away, "disconnected");
    self_->quit(make_error(stop_code::disconnected));
  }

 private:
  socket_state& state() { return self_->state; }
  std::vector<channel_entry>& channels() { return self_->state.channels; }

  std::vector<channel_entry>::iterator find_topic(const std::string& topic) {
    return std::find_if(channels().begin(), channels().end(),
                        [&](const channel_entry& e) { return e.topic == topic; });
  }

  std::vector<channel_entry>::iterator find_by_address(const caf::actor_addr& addr) {
    return std::find_if(channels().begin(), channels().end(),
                        [&](const channel_entry& e) { return e.channel.address() == addr; });
  }

  // Takes a token from the connection's bucket and, for a joined topic, from the topic's.
  bool within_rate(const message& m) {
    const auto& settings = state().deps->settings;
    if (!settings.message_rate.enabled() && !settings.channel_rate.enabled()) return true;
    auto now = token_bucket::clock::now();
    bool within = state().message_rate.try_take(settings.message_rate, now);
    if (within && settings.channel_rate.enabled()) {
      if (auto e = find_topic(m.topic); e != channels().end())
        within = e->rate.try_take(settings.channel_rate, now);
    }
    if (!within) report_rate_limited(m);
    if (!within && !state().rate_limited) {
      state().rate_limited = true;
      state().info->log.info(
          "{} connection {}: over its rate limit; messages are dropped while it stays over",
          state().info->transport, log_text(state().info->id.value_or("(no id)")));
    }
    return within;
  }

  void report_rate_limited(const message& m) {
    counters::add(counters::error::rate_limited);
    if (!telemetry::attached(telemetry::event::rate_limited)) return;
    auto meta = connection_metadata(*state().info);
    meta.topic = m.topic;
    meta.event = m.event;
    telemetry::execute(telemetry::event::rate_limited, {}, meta);
  }

  // Every join's answer is counted and told to telemetry; `refusal` is why it was refused.
  void report_join(const std::string& topic, clock::time_point started,
                   std::optional<counters::error> refusal = std::nullopt,
                   std::string_view reason = {}) {
    if (refusal)
      counters::add(*refusal);
    else
      counters::add(counters::count::joins);
    if (!telemetry::attached(telemetry::event::join)) return;
    auto meta = connection_metadata(*state().info);
    meta.topic = topic;
    meta.result = refusal ? "error" : "ok";
    meta.reason = reason;
    telemetry::execute(telemetry::event::join, {clock::now() - started, 0}, meta);
  }

  void reply(const ref_t& join_ref, const ref_t& ref, const std::string& topic, const char* status,
             const payload& response) {
    state().info->out->send_now(
        state().info->format->reply(join_ref, ref, topic, status, response));
  }

  void control(const ref_t& join_ref, const std::string& topic, const char* event,
               const json::object& body) {
    state().info->out->send(state().info->format->control(join_ref, topic, event, body));
  }

  // phx_close for normal and shutdown-family stops, phx_error (the client rejoins) otherwise.
  void announce_end(const channel_entry& e, const caf::error& reason) {
    auto why = stop_reason::from(reason);
    if (why.is_error())
      control(e.join_ref, e.topic, events::error, {{"reason", "channel_crash"}});
    else
      control(e.join_ref, e.topic, events::close, {});
  }

  void on_join(message& m) {
    auto started = clock::now();
    auto route = state().deps->routes->route(m.topic);
    if (!route) {
      state().info->log.warn(log_topic(m.topic), "join of unmatched topic {} from {}",
                             log_text(m.topic), state().info->peer);
      reply(std::nullopt, m.ref, m.topic, "error", object({{"reason", "unmatched topic"}}));
      report_join(m.topic, started, counters::error::unmatched_topic, "unmatched topic");
      return;
    }
    auto old = find_topic(m.topic);
    if (old == channels().end()) {
      start_join(std::move(m), std::move(*route), std::nullopt, started);
      return;
    }
    // A second join of a live topic replaces the first. As in Phoenix, the connection waits for
    // the old channel to stop (a leave already sent to it is handled first), so everything it
    // sends is queued before the new channel subscribes. The client gets phx_close for the old
    // join_ref after the new join's reply, unless the old one was leaving anyway.
    auto old_channel = old->channel;
    ref_t close_after = old->status == channel_status::leaving ? std::nullopt : old->join_ref;
    channels().erase(old);  // let go: its end, when it comes, is ignored
    auto pending =
        std::make_shared<std::pair<message, router::match>>(std::move(m), std::move(*route));
    auto then_join = [*this, pending, close_after, started]() mutable {
      start_join(std::move(pending->first), std::move(pending->second), close_after, started);
    };
    self_
        ->request(old_channel, state().deps->settings.stop_timeout, atoms::stop::value,
                  make_error(stop_code::duplicate_join))
        .await([then_join](bool) mutable { then_join(); },
               [*this, then_join, old_channel](caf::error& err) mutable {
                 if (err == caf::sec::request_timeout)
                   self_->send_exit(old_channel, caf::exit_reason::kill);
                 then_join();  // also when it already ended (request_receiver_down)
               });
  }

  void start_join(message m, router::match route, const ref_t& close_after,
                  clock::time_point started) {
    const auto& deps = *state().deps;
    ref_t join_ref = m.join_ref ? m.join_ref : m.ref;
    if (channels().size() >= deps.settings.max_channels) {
      reply(join_ref, m.ref, m.topic, "error", object({{"reason", "too many channels joined"}}));
      report_join(m.topic, started, counters::error::too_many_channels, "too many channels joined");
      if (close_after) control(close_after, m.topic, events::close, {});
      return;
    }
    channel_context ctx{m.topic,      join_ref,     route.pattern,
                        state().info, state().deps, self_->address()};
    auto ch = (*route.factory)(self_, std::move(ctx));
    // Channels are temporary children of a dynamic supervisor, which adopts them without a round
    // trip: a crash is logged and counted there, and the client gets phx_error from us; nothing
    // restarts it but the client's rejoin. Embedded without supervision, there is none. The
    // supervisor keeps the name and logs it, so it gets the topic as logs may show it.
    if (deps.channel_supervisor)
      caf::anon_send(deps.channel_supervisor, supervision::adopt_atom::value, log_text(m.topic),
                     caf::actor_cast<caf::actor>(ch));
    run_join(ch, std::move(m), join_ref, close_after, started);
  }

  void run_join(const channel_actor& ch, message m, const ref_t& join_ref, const ref_t& close_after,
                clock::time_point started) {
    const auto& deps = *state().deps;
    channels().push_back({m.topic, join_ref, ch, channel_status::joining,
                          token_bucket(deps.settings.channel_rate, token_bucket::clock::now())});
    auto topic = m.topic;
    auto ref = m.ref;
    // Like Phoenix, the join is synchronous for the connection: later messages wait for it. A
    // join() that returns after the deadline makes its channel answer an error instead of
    // subscribing; one that has not answered by twice the timeout is stuck, and killed.
    auto deadline = caf::make_timestamp() + deps.settings.join_timeout;
    auto join = self_->request(ch, 2 * deps.settings.join_timeout, atoms::join::value, std::move(m),
                               deadline);
    // CAF 0.17 keeps a request's timer (and a reference to this actor) until it expires, answered
    // or not: cancelled on the answer, a join holds nothing for twice the join timeout.
    auto timer = join.id();
    join.await(
        [*this, ch, close_after, topic, started, timer](bool joined) mutable {
          self_->clock().cancel_request_timeout(self_, timer);
          if (joined)
            report_join(topic, started);
          else
            report_join(topic, started, counters::error::join_refused, "refused");
          auto e = find_by_address(ch.address());
          if (e == channels().end()) return;
          if (joined)
            e->status = channel_status::joined;  // if it has ended since, its end is queued
          else
            channels().erase(e);  // refused: it ends by itself
          if (close_after) control(close_after, topic, events::close, {});
        },
        [*this, ch, close_after, topic, join_ref, ref, started, timer](caf::error& err) mutable {
          self_->clock().cancel_request_timeout(self_, timer);
          state().info->log.warn(log_topic(topic), "join of {} failed: {}", log_text(topic),
                                 self_->system().render(err));
          report_join(topic, started, counters::error::join_crashed, "join crashed");
          if (err == caf::sec::request_timeout) self_->send_exit(ch, caf::exit_reason::kill);
          if (auto e = find_by_address(ch.address()); e != channels().end()) channels().erase(e);
          reply(join_ref, ref, topic, "error", object({{"reason", "join crashed"}}));
          if (close_after) control(close_after, topic, events::close, {});
        });
  }

  void on_leave(message& m) {
    auto e = find_topic(m.topic);
    if (e == channels().end()) {
      reply(m.join_ref, m.ref, m.topic, "ok", object({}));
      return;
    }
    if (m.join_ref && *m.join_ref != e->join_ref) return;  // a latent leave of an older join
    e->status = channel_status::leaving;
    self_->send(e->channel, atoms::leave::value, std::move(m));
  }

  void on_event(message& m) {
    auto e = find_topic(m.topic);
    if (e == channels().end()) {
      reply(std::nullopt, m.ref, m.topic, "error", object({{"reason", "unmatched topic"}}));
      counters::add(counters::error::unmatched_topic);
      return;
    }
    if (m.join_ref && *m.join_ref != e->join_ref) return;  // stale: meant for an older join
    self_->send(e->channel, atoms::in::value, std::move(m));
  }

  socket_self self_;
};

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Every socket is in the coordinator's registry until it ends (~socket_state).
void enroll(socket_self self) {
  if (!self->state.deps->coordinator) return;
  self->send(self->state.deps->coordinator, atoms::enroll::value, socket_actor{self},
             connection_entry{self->state.info, unix_ms()});
}

// A socket with an id listens to the pubsub topic named by its id, so a "disconnect" broadcast
// there closes it, as in Phoenix.
void follow_socket_id(socket_self self, const std::string& id) {
  const auto& shard = self->state.deps->pubsub.shard_for(id);
  self->request(shard, caf::infinite, atoms::subscribe::value, id,
                subscription{self->id(), nullptr, nullptr, caf::actor_cast<event_receiver>(self),
                             nullptr},
                frame{})
      .then([](caf::ok_atom) {});
  self->attach_functor([shard, id, actor_id = self->id()] {
    caf::anon_send(shard, atoms::unsubscribe::value, id, actor_id);
  });
}

class socket_actor_impl final
    : public with_shared_behavior<socket_actor_impl,
                                  caf::stateful_actor<socket_state, socket_actor::base>> {
 public:
  socket_actor_impl(caf::actor_config& cfg, std::shared_ptr<const socket_info> info,
                    std::shared_ptr<const socket_deps> deps)
      : with_shared_behavior(cfg) {
    state.info = std::move(info);
    state.deps = std::move(deps);
    state.self = this;
    state.message_rate =
        token_bucket(state.deps->settings.message_rate, token_bucket::clock::now());
  }

  behavior_type make_behavior() override {
    set_exit_handler([](caf::scheduled_actor* self, caf::exit_msg& em) {
      socket_behavior{static_cast<socket_actor_impl*>(self)}.on_exit(em);
    });
    enroll(this);
    if (const auto& id = state.info->id) follow_socket_id(this, *id);
    // Shared by every socket (actors/shared_behavior.hpp).
    static const behavior_type handlers{
        [](message& m) { socket_behavior{&running()}.on_message(m); },
        [](atoms::out, const std::string& event, const payload&) {
          if (event == "disconnect") socket_behavior{&running()}.on_disconnect();
        },
        [](atoms::ended, const caf::actor_addr& channel, const caf::error& reason) {
          socket_behavior{&running()}.on_channel_ended(channel, reason);
        },
    };
    return handlers;
  }
};

}  // namespace

socket_actor spawn_socket(caf::actor_system& sys, std::shared_ptr<const socket_info> info,
                          std::shared_ptr<const socket_deps> deps) {
  return sys.spawn<socket_actor_impl>(std::move(info), std::move(deps));
}

}  // namespace beryl
