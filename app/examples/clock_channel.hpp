#pragma once
// A channel for "clock:*": it pushes the time every second, answers "ping", lets members "say"
// things to each other, and hides words it does not like.
#include "actors/channel.hpp"
#include "core/log_text.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <chrono>

class clock_channel : public beryl::channel {
  using tick = caf::atom_constant<caf::atom("tick")>;  // our timer's message

 public:
  clock_channel(caf::actor_config& cfg, beryl::channel_context ctx)
      : beryl::channel(cfg, std::move(ctx)) {
    intercept({"say"});  // broadcasts of "say" pass through handle_out, per subscriber
  }

 protected:
  // phx_join: answer ok to join, error to refuse.
  beryl::reply join(const beryl::payload&) override {
    delayed_send(this, std::chrono::seconds(1), tick::value);
    return beryl::reply::ok({{"zone", topic_params().at(0)}});  // what "*" matched
  }

  // Client events: reply, or broadcast to everyone in the topic.
  std::optional<beryl::reply> handle_in(const std::string& event,
                                        const beryl::payload& body) override {
    if (event == "ping") return beryl::reply::ok(body);
    if (event == "say") {
      broadcast("say", body);
      return beryl::noreply;
    }
    return beryl::reply::error({{"reason", "unknown event " + event}});
  }

  // Any other CAF message: here, our own timer.
  caf::behavior handle_info() override {
    return {[this](tick) {
      push("tick", {{"now_ms", now_ms()}});
      delayed_send(this, std::chrono::seconds(1), tick::value);
    }};
  }

  // Intercepted broadcasts: push them on (changed), or drop them.
  void handle_out(const std::string& event, const beryl::payload& body) override {
    auto* message = beryl::as_object(body);
    auto* text = message ? message->if_contains("text") : nullptr;
    if (text && text->is_string() && text->as_string().find("tomato") != std::string::npos)
      return;  // nobody here likes tomatoes
    push(event, body);
  }

  void terminate(const beryl::stop_reason& reason) override {
    // The client chose the topic and the socket id: log_text escapes and cuts them for the log.
    spdlog::info("{} left {} ({})", beryl::log_text(socket_id().value_or("anonymous")),
                 beryl::log_text(topic()), reason.name());
  }

 private:
  static std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};
