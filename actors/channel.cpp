#include "actors/channel.hpp"

#include "actors/atoms.hpp"
#include "actors/socket_deps.hpp"
#include "actors/socket_protocol.hpp"
#include "core/counters.hpp"
#include "core/log_text.hpp"
#include "core/presence/size_limit.hpp"
#include "core/telemetry.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

namespace beryl {
namespace {

telemetry::metadata channel_metadata(const channel_context& ctx) {
  auto meta = connection_metadata(*ctx.socket);
  meta.topic = ctx.topic;
  return meta;
}

// Tells telemetry that a handle_in starts, and when it ends (returning or throwing), how long it
// took. The clock is read only when a handler listens to the end.
class handle_in_span {
 public:
  handle_in_span(const channel_context& ctx, const std::string& event) : ctx_(ctx), event_(event) {
    if (telemetry::attached(telemetry::event::handle_in_start))
      telemetry::execute(telemetry::event::handle_in_start, {}, metadata());
    if (telemetry::attached(telemetry::event::handle_in_stop))
      started_ = std::chrono::steady_clock::now();
  }
  ~handle_in_span() {
    if (started_)
      telemetry::execute(telemetry::event::handle_in_stop,
                         {std::chrono::steady_clock::now() - *started_, 0}, metadata());
  }
  handle_in_span(const handle_in_span&) = delete;
  handle_in_span& operator=(const handle_in_span&) = delete;

 private:
  telemetry::metadata metadata() const {
    auto meta = channel_metadata(ctx_);
    meta.event = event_;
    return meta;
  }

  const channel_context& ctx_;
  const std::string& event_;
  std::optional<std::chrono::steady_clock::time_point> started_;
};

}  // namespace

channel::channel(caf::actor_config& cfg, channel_context ctx)
    : with_shared_behavior(cfg), ctx_(std::move(ctx)) {
  // Any exception in a callback or a handle_info handler ends this channel only, as a crash.
  // The exception text often quotes client input, and the supervisor logs and keeps it: it is
  // carried as a log would show it.
  set_exception_handler([this](std::exception_ptr& ep) -> caf::error {
    auto what = log_text(exception_text(ep));
    ctx_.socket->log.error(log_topic(ctx_.topic), "channel {} crashed: {}", log_text(ctx_.topic),
                           what);
    counters::add(counters::error::channel_crashed);
    auto reason = make_error(stop_code::crashed, what);
    call_terminate(stop_reason::from(reason));
    return reason;
  });
  // Trapping exits: the socket ending (~socket_state) or a supervisor stopping it makes the
  // channel terminate with that reason.
  set_exit_handler([this](caf::exit_msg& em) {
    end(em.reason == caf::exit_reason::normal ? make_error(stop_code::closed) : em.reason);
  });
  // A message no handler takes is dropped here; CAF's default would also kill its sender.
  set_default_handler(
      [](caf::scheduled_actor* self, caf::message_view& x) -> caf::result<caf::message> {
        spdlog::warn("channel {} dropped an unexpected message: {}", self->id(),
                     log_text(caf::to_string(x.content())));
        return caf::message{};
      });
}

std::optional<reply> channel::handle_in(const std::string& event, const payload&) {
  ctx_.socket->log.debug(log_topic(ctx_.topic), "channel {}: no handle_in for event {}",
                         log_text(ctx_.topic), log_text(event));
  return noreply;
}

void channel::handle_out(const std::string& event, const payload& body) {
  push(event, body);
}

caf::behavior channel::handle_info() {
  return {};
}

void channel::terminate(const stop_reason&) {}

void channel::intercept(std::vector<std::string> events) {
  intercepts_ = std::make_shared<const std::vector<std::string>>(std::move(events));
}

void channel::push(const std::string& event, const payload& body) {
  auto f = ctx_.socket->format->push(ctx_.join_ref, ctx_.topic, event, body);
  // The join reply goes first: pushes made during join wait for it.
  if (joined_)
    send_frame(std::move(f));
  else if (joining_)
    joining_->pushed.push_back(std::move(f));
}

void channel::broadcast(const std::string& event, payload body) {
  pubsub().broadcast(ctx_.topic, event, std::move(body));
}

void channel::broadcast_from(const std::string& event, payload body) {
  pubsub().broadcast(ctx_.topic, event, std::move(body), id());
}

std::vector<std::string> channel::topic_params() const {
  if (!ctx_.pattern) return {};
  return ctx_.pattern->match(ctx_.topic).value_or(std::vector<std::string>{});
}

const pubsub_ref& channel::pubsub() const {
  return ctx_.deps->pubsub;
}

void channel::reply_later(const reply_ref& to, const reply& r) {
  send_frame(ctx_.socket->format->reply(to.join_ref, to.ref, ctx_.topic, r.status, r.response));
}

void channel::stop() {
  end(make_error(stop_code::stopped));
}

const presence_shard_actor& channel::presence_tracker() const {
  const auto& presence = ctx_.deps->presence;
  if (!presence.valid()) throw std::logic_error("presence is not running in this server");
  return presence.shard_for(ctx_.topic);
}

template <class Operation>
std::optional<std::string> channel::change_presence(Operation op, const std::string& key,
                                                    boost::json::object meta) {
  const auto& tracker = presence_tracker();
  // Checked here too, not only by the presence actor, so the channel's code gets the answer at
  // once: a join can then refuse with it.
  if (!presence::within_size_limit(key, meta, ctx_.deps->settings.max_presence_meta))
    return presence::meta_too_large;
  request(tracker, caf::infinite, op, caf::actor_cast<caf::actor>(this), ctx_.topic, key,
          payload{boost::json::value(std::move(meta))})
      .then([](const std::string&) {},
            [this, key](caf::error& err) {
              ctx_.socket->log.warn(log_topic(ctx_.topic), "channel {}: presence of {}: {}",
                                    log_text(ctx_.topic), log_text(key), system().render(err));
            });
  return std::nullopt;
}

std::optional<std::string> channel::track(const std::string& key, boost::json::object meta) {
  return change_presence(atoms::track::value, key, std::move(meta));
}

std::optional<std::string> channel::update_presence(const std::string& key,
                                                    boost::json::object meta) {
  return change_presence(atoms::update::value, key, std::move(meta));
}

void channel::untrack(const std::string& key) {
  request(presence_tracker(), caf::infinite, atoms::untrack::value,
          caf::actor_cast<caf::actor>(this), ctx_.topic, key)
      .then([](caf::ok_atom) {});
}

void channel::push_presence_state() {
  const auto& tracker = presence_tracker();
  if (!joined_ && !subscribe_sent_) {
    // Asked for at the subscription, which holds back the topic's diffs until it is written.
    presence_state_on_join_ = true;
    return;
  }
  // After this channel's own changes (same sender, same shard: in order), and after the diffs
  // that carry them. The topic's pubsub shard writes it (actors/pubsub.hpp).
  send(tracker, atoms::state::value, ctx_.topic, id(), ctx_.join_ref);
}

const caf::message_handler& channel::protocol() {
  static const caf::message_handler handlers{
      [](atoms::join, message& m, caf::timestamp deadline) -> caf::result<bool> {
        auto& self = running();
        auto promise = self.make_response_promise<bool>();
        self.joining_ = std::make_unique<joining_state>(joining_state{promise, {}, {}});
        self.run_join(m, deadline);
        return promise;
      },
      [](atoms::in, message& m) { running().run_handle_in(m); },
      [](atoms::leave, message& m) { running().run_leave(m); },
      // Replaced by a duplicate join: terminate, then answer, so the socket knows we are done.
      [](atoms::stop, const caf::error& reason) {
        auto& self = running();
        self.call_terminate(stop_reason::from(reason));
        self.make_response_promise<bool>().deliver(true);
        self.quit(exit_reason_for(reason));
      },
      [](atoms::out, const std::string& event, const payload& body) {
        running().handle_out(event, body);
      },
  };
  return handlers;
}

caf::behavior channel::make_behavior() {
  return protocol().or_else(handle_info());
}

void channel::run_join(message& m, caf::timestamp deadline) {
  auto answer = join(m.body);  // if it throws, on_exit answers the socket
  if (answer.is_later()) {
    joining_->deferred = deferred_join{m.ref, deadline};  // made by the join request
    return;
  }
  finish_join(m.ref, deadline, answer);
}

void channel::complete_join(const reply& answer) {
  if (!joining_ || !joining_->deferred || answer.is_later()) {
    ctx_.socket->log.warn(log_topic(ctx_.topic),
                          "channel {}: complete_join() without a join() that answers later",
                          log_text(ctx_.topic));
    return;
  }
  auto pending = std::move(*joining_->deferred);
  joining_->deferred.reset();
  finish_join(pending.ref, pending.deadline, answer);
}

void channel::finish_join(const ref_t& ref, caf::timestamp deadline, const reply& answer) {
  if (caf::make_timestamp() > deadline) {
    // The socket has answered the client already; subscribing now would write a second reply.
    ctx_.socket->log.error(log_topic(ctx_.topic),
                           "channel {}: join answered after the join timeout",
                           log_text(ctx_.topic));
    quit(make_error(stop_code::crashed, "join timed out"));
    return;
  }
  auto reply_frame =
      ctx_.socket->format->reply(ctx_.join_ref, ref, ctx_.topic, answer.status, answer.response);
  if (!answer.is_ok()) {
    send_frame(std::move(reply_frame));
    answer_join(false);
    quit(caf::exit_reason::normal);  // a refused join is no crash
    return;
  }
  subscription me{id(),
                  ctx_.socket->out,
                  ctx_.socket->format,
                  caf::actor_cast<event_receiver>(this),
                  intercepts_,
                  presence_state_on_join_};
  subscribe_sent_ = true;
  // Awaited: nothing else is handled until the subscription is made (its answer is one hop away).
  // An answer taken with then() would leave CAF's table of such handlers allocated in every
  // channel for its whole life.
  request(pubsub().shard_for(ctx_.topic), caf::infinite, atoms::subscribe::value, ctx_.topic,
          std::move(me), std::move(reply_frame))
      .await(
          [this](caf::ok_atom) {
            joined_ = true;
            if (joining_)
              for (auto& f : joining_->pushed) send_frame(std::move(f));
            answer_join(true);
          },
          [this](caf::error& err) {
            answer_join(err);
            quit(err);
          });
  // Sent after the subscription, so it reaches the pubsub shard after it too.
  if (presence_state_on_join_) push_presence_state();
}

template <class Answer>
void channel::answer_join(Answer answer) {
  if (!joining_) return;
  auto joining = std::move(joining_);
  joining->answer.deliver(std::move(answer));
}

void channel::run_handle_in(message& m) {
  current_ref_ = &m.ref;
  std::optional<reply> answer;
  {
    handle_in_span span(ctx_, m.event);
    answer = handle_in(m.event, m.body);
  }
  if (answer)
    send_frame(ctx_.socket->format->reply(ctx_.join_ref, m.ref, ctx_.topic, answer->status,
                                          answer->response));
  current_ref_ = nullptr;
}

void channel::run_leave(const message& m) {
  send_frame(ctx_.socket->format->reply(ctx_.join_ref, m.ref, ctx_.topic, "ok",
                                        boost::json::value(boost::json::object{})));
  end(make_error(stop_code::left));
}

void channel::end(const caf::error& reason) {
  call_terminate(stop_reason::from(reason));
  quit(exit_reason_for(reason));
}

void channel::call_terminate(const stop_reason& reason) {
  if (terminated_ || !joined_) return;  // a channel that never joined has nothing to terminate
  terminated_ = true;
  report_leave(reason);
  try {
    terminate(reason);
  } catch (const std::exception& e) {
    ctx_.socket->log.error(log_topic(ctx_.topic), "channel {}: terminate threw: {}",
                           log_text(ctx_.topic), log_text(e.what()));
  }
}

void channel::report_leave(const stop_reason& reason) const {
  counters::add(counters::count::leaves);
  if (!telemetry::attached(telemetry::event::leave)) return;
  auto meta = channel_metadata(ctx_);
  auto why = reason.name();
  meta.reason = why;
  telemetry::execute(telemetry::event::leave, {}, meta);
}

void channel::send_frame(frame f) {
  ctx_.socket->out->send_now(std::move(f));
}

void channel::on_exit() {
  // The socket announces the end to the client (phx_close or phx_error, by the reason). CAF runs
  // on_exit however the channel ends, a kill included, with its reason set.
  if (auto owner = caf::actor_cast<socket_actor>(ctx_.owner))
    caf::anon_send(owner, atoms::ended::value, address(), fail_state());
  const auto& shard = pubsub().shard_for(ctx_.topic);
  if (joining_ && subscribe_sent_) {
    // Ended between subscribing and the acknowledgement: the shard has the join reply to write
    // first, so it answers the socket (true: joined, and then ended) once it has removed us.
    joining_->answer.delegate(shard, atoms::unsubscribe::value, ctx_.topic, id());
    joining_.reset();
  } else if (joining_) {
    // join() threw, or the channel was stopped before it ran: the socket answers "join crashed".
    answer_join(make_error(stop_code::crashed, "ended while joining"));
  } else if (subscribe_sent_) {
    caf::anon_send(shard, atoms::unsubscribe::value, ctx_.topic, id());
  }
}

}  // namespace beryl
