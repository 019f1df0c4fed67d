#pragma once
// A channel is a CAF actor: one runs for each successful join of a topic on a connection. The
// base class implements the framework's side of the protocol (channel_protocol.hpp).
// Subclass beryl::channel, override the callbacks you need (Phoenix's channel callbacks), and
// register the class for a topic pattern with beryl::router::add<YourChannel>("room:*").
//
//   join        -> reply::ok(...) joins; any other status refuses (the actor then ends);
//                  reply::later() answers with complete_join() (after asking another actor)
//   handle_in   -> a client event; return a reply, or noreply
//   handle_info -> extra CAF message handlers (timers, other actors), merged into the behavior
//   handle_out  -> a broadcast of an event named in intercept(); push it (changed) or drop it
//   terminate   -> the channel is ending, with Phoenix's reason (left, closed, crashed, ...)
//
// An exception thrown by any callback ends this channel only: the client gets phx_error for the
// topic and may rejoin; the socket and its other channels stay up.
#include "actors/channel_protocol.hpp"
#include "actors/context.hpp"
#include "actors/message_types.hpp"
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "actors/shared_behavior.hpp"
#include "actors/stop_reason.hpp"
#include "core/reply.hpp"
#include "core/topic_pattern.hpp"

#include <caf/actor_addr.hpp>
#include <caf/event_based_actor.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace beryl {

struct socket_deps;

// Everything a channel is born with. There is one channel per joined topic and connection, so it
// holds what its socket shares (the server's pubsub, presence and settings) through one pointer.
struct channel_context {
  std::string topic;
  ref_t join_ref;
  const topic_pattern* pattern = nullptr;  // the route's, kept alive by `deps` (its router)
  std::shared_ptr<const socket_info> socket;
  std::shared_ptr<const socket_deps> deps;  // actors/socket_deps.hpp
  caf::actor_addr owner;                    // the socket actor: told when this channel ends
};

// Identifies a client message, to reply to it later (Phoenix's socket_ref).
struct reply_ref {
  ref_t join_ref;
  ref_t ref;
};

class channel : public with_shared_behavior<channel, caf::event_based_actor> {
 public:
  channel(caf::actor_config& cfg, channel_context ctx);

  const char* name() const override { return "channel"; }

 protected:
  // --- callbacks --------------------------------------------------------------------------
  virtual reply join(const payload& params) = 0;
  virtual std::optional<reply> handle_in(const std::string& event, const payload& body);
  virtual void handle_out(const std::string& event, const payload& body);
  virtual caf::behavior handle_info();
  virtual void terminate(const stop_reason& reason);

  // --- what a channel can do --------------------------------------------------------------
  // Events whose broadcasts go through handle_out. Call it in your constructor.
  void intercept(std::vector<std::string> events);
  // To this client only: [J, null, topic, event, body].
  void push(const std::string& event, const payload& body);
  // To every subscriber of this topic, this client included.
  void broadcast(const std::string& event, payload body);
  // To every subscriber of this topic but this channel.
  void broadcast_from(const std::string& event, payload body);
  // The same with an object written in braces, as reply::ok takes it: push("tick", {{"n", 1}}).
  void push(const std::string& event, boost::json::object body) {
    push(event, payload(std::move(body)));
  }
  void broadcast(const std::string& event, boost::json::object body) {
    broadcast(event, payload(std::move(body)));
  }
  void broadcast_from(const std::string& event, boost::json::object body) {
    broadcast_from(event, payload(std::move(body)));
  }
  // The message handle_in is handling, for an answer sent later with reply_later (empty outside
  // handle_in).
  reply_ref socket_ref() const {
    return current_ref_ ? reply_ref{ctx_.join_ref, *current_ref_} : reply_ref{};
  }
  void reply_later(const reply_ref& to, const reply& r);
  // Answers a join() that returned reply::later(), as its return value would have: the reply
  // still reaches the client before any broadcast. Later messages from the client wait for it,
  // as for any join; past the socket's join timeout the client has had an error instead.
  void complete_join(const reply& answer);
  // Ends the channel normally: the client gets phx_close and does not rejoin.
  void stop();

  // --- presence in this topic, as Phoenix.Presence ----------------------------------------
  // Tracks this channel under `key`; it is untracked by itself when the channel ends, however
  // it ends. Every member gets a presence_diff. Returns why it was refused, as Phoenix's
  // {:error, reason}: "meta too large" when key and meta as JSON exceed --max-presence-meta
  // (nothing is tracked then); nothing when the presence shard has it (its later failures, such
  // as already_tracked, are logged).
  std::optional<std::string> track(const std::string& key, boost::json::object meta);
  // A new meta for `key`: one diff, the new version with phx_ref_prev. Refused as track is (the
  // old meta stays).
  std::optional<std::string> update_presence(const std::string& key, boost::json::object meta);
  void untrack(const std::string& key);
  // Pushes "presence_state" to this client once this channel's own presence changes have gone
  // out as a diff (within --presence-diff-ms): it lists its own track(), and the presence_diffs
  // it gets afterwards start exactly where it ends. Call it in join(): the topic's diffs are then
  // held back from this client until its state is written (docs/presence.md §1.3). Called later,
  // the client may already hold diffs the state includes (phoenix.js reports those joins again).
  void push_presence_state();

  const std::string& topic() const { return ctx_.topic; }
  // What each `*` of the route's pattern matched, worked out on each call (a channel that never
  // asks holds none of it).
  std::vector<std::string> topic_params() const;
  const std::optional<std::string>& socket_id() const { return ctx_.socket->id; }
  const boost::json::object& socket_assigns() const { return ctx_.socket->assigns; }
  std::string_view transport() const { return ctx_.socket->transport; }
  const pubsub_ref& pubsub() const;

 private:
  caf::behavior make_behavior() final;
  // The handlers of channel_actor, shared by every channel (actors/shared_behavior.hpp).
  static const caf::message_handler& protocol();
  void on_exit() final;

  void run_join(message& m, caf::timestamp deadline);
  void finish_join(const ref_t& ref, caf::timestamp deadline, const reply& answer);
  template <class Answer>
  void answer_join(Answer answer);
  void run_handle_in(message& m);
  void run_leave(const message& m);
  void end(const caf::error& reason);
  void send_frame(frame f);
  void call_terminate(const stop_reason& reason);
  void report_leave(const stop_reason& reason) const;
  const presence_shard_actor& presence_tracker() const;
  template <class Operation>
  std::optional<std::string> change_presence(Operation op, const std::string& key,
                                             boost::json::object meta);

  // A join() that answered reply::later(): its message's ref and the socket's deadline.
  struct deferred_join {
    ref_t ref;
    caf::timestamp deadline;
  };
  // What only a join in progress needs: held from the socket's join request until it is
  // answered, so that a joined channel does not carry it.
  struct joining_state {
    caf::response_promise answer;  // on_exit answers it if the channel ends first
    std::optional<deferred_join> deferred;
    std::vector<frame> pushed;  // push()es wait for the join reply
  };

  channel_context ctx_;
  const ref_t* current_ref_ = nullptr;  // the ref of the message handle_in is handling
  std::shared_ptr<const std::vector<std::string>> intercepts_;
  std::unique_ptr<joining_state> joining_;
  bool joined_ = false;
  bool terminated_ = false;
  bool subscribe_sent_ = false;
  bool presence_state_on_join_ = false;
};

}  // namespace beryl
