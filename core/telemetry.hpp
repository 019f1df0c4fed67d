#pragma once
// Telemetry for embedders, as Erlang's :telemetry: the server emits named events with
// measurements and metadata, and an application attaches handlers to the events it wants
// (docs/architecture.md §6). The dashboard and /metrics are built on the same events.
//
// Handlers run synchronously, on the thread that emits the event (a network thread or an actor
// thread): they must be quick and must not block. A handler that throws is detached, as
// :telemetry does. Emitting an event nobody listens to costs one relaxed atomic load.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace beryl::telemetry {

enum class event : std::uint8_t {
  connect,          // a client connected (after on_connect): transport, remote_address, socket_id,
                    // result ("ok" or "error"); duration: the connect callback
  join,             // a join was answered: topic, result ("ok" or "error"), reason when refused;
                    // duration: from the join's arrival to its answer
  leave,            // a joined channel ended: topic, reason (left, closed, crashed, ...)
  handle_in_start,  // a channel's handle_in begins: topic, event
  handle_in_stop,   // it returned (or threw): topic, event; duration
  crash,            // a supervised child ended abnormally: supervisor, child, reason, action
                    // (what the supervisor does about it: "restart", "none", "give up")
  restart,          // a supervisor restarted a child: supervisor, child, reason (of the exit),
                    // action ("restarted" or "restart failed")
  slow_consumer,    // a connection's outbound buffer overflowed: remote_address, action
                    // ("disconnect" or "drop"); bytes: what was queued
  rate_limited,     // a client message was over its rate limit: transport, remote_address,
                    // socket_id, topic, event
};
inline constexpr std::size_t event_count = 9;

// "beryl.socket.connect", "beryl.channel.join", ...
std::string_view name(event e);
// All events, in declaration order.
const std::vector<event>& all_events();

struct measurements {
  std::chrono::nanoseconds duration{0};
  std::uint64_t bytes = 0;
};

// Views into the emitter's data, valid during the handler call only: copy what you keep. Empty
// when not given. Client-controlled fields (topic, event, reason) are as the client sent them.
struct metadata {
  std::string_view transport;
  std::string_view remote_address;
  std::string_view socket_id;
  std::string_view topic;
  std::string_view event;
  std::string_view result;
  std::string_view reason;
  std::string_view supervisor;
  std::string_view child;
  std::string_view action;
};

using handler = std::function<void(event, const measurements&, const metadata&)>;

// Calls `h` for each of `events` from now on. False (and nothing attached) when `id` is taken.
bool attach(std::string id, std::vector<event> events, handler h);
// False when nothing has that id.
bool detach(std::string_view id);
// Whether a handler listens to `e`: emitters skip timing and metadata when none does.
bool attached(event e) noexcept;
void execute(event e, const measurements& m, const metadata& meta);

// Told the id and the exception's text of each handler detached because it threw (the runtime
// logs it). Not called for a handler that throws while this is unset or being set.
void on_handler_failure(std::function<void(std::string_view id, std::string_view what)> report);

}  // namespace beryl::telemetry
