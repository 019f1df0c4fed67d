#include "core/telemetry.hpp"

#include "core/log_text.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>

namespace beryl::telemetry {
namespace {

struct attached_handler {
  std::string id;
  std::vector<event> events;
  handler call;
};

// Who listens to what, immutable once published. Emitters read the current table without a
// lock; attach and detach publish a new one. Replaced tables are kept until the process ends,
// since an emitter may still be reading one: attaching is for start-up, not for every request.
struct table {
  std::vector<std::shared_ptr<const attached_handler>> handlers;
  std::array<std::vector<const attached_handler*>, event_count> by_event;
};

struct registry {
  std::mutex mutex;
  std::vector<std::unique_ptr<const table>> tables;
  std::atomic<const table*> current{nullptr};
  std::atomic<std::uint32_t> listened{0};  // bit i: a handler listens to event i
  std::function<void(std::string_view, std::string_view)> report_failure;

  // Under the mutex.
  void publish(std::vector<std::shared_ptr<const attached_handler>> handlers) {
    auto next = std::make_unique<table>();
    std::uint32_t bits = 0;
    for (const auto& h : handlers)
      for (auto e : h->events) {
        auto& listeners = next->by_event[static_cast<std::size_t>(e)];
        if (std::find(listeners.begin(), listeners.end(), h.get()) == listeners.end())
          listeners.push_back(h.get());
        bits |= 1u << static_cast<unsigned>(e);
      }
    next->handlers = std::move(handlers);
    current.store(next.get(), std::memory_order_release);
    listened.store(bits, std::memory_order_release);
    tables.push_back(std::move(next));
  }

  std::vector<std::shared_ptr<const attached_handler>> handlers_now() const {
    const auto* now = current.load(std::memory_order_relaxed);
    return now ? now->handlers : std::vector<std::shared_ptr<const attached_handler>>{};
  }
};

registry& the_registry() {
  static registry r;
  return r;
}

void handler_failed(const std::string& id, const std::exception_ptr& ep) {
  auto& r = the_registry();
  std::function<void(std::string_view, std::string_view)> report;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    report = r.report_failure;
  }
  detach(id);
  if (report) report(id, exception_text(ep));
}

}  // namespace

std::string_view name(event e) {
  switch (e) {
    case event::connect:
      return "beryl.socket.connect";
    case event::join:
      return "beryl.channel.join";
    case event::leave:
      return "beryl.channel.leave";
    case event::handle_in_start:
      return "beryl.channel.handle_in.start";
    case event::handle_in_stop:
      return "beryl.channel.handle_in.stop";
    case event::crash:
      return "beryl.supervisor.crash";
    case event::restart:
      return "beryl.supervisor.restart";
    case event::slow_consumer:
      return "beryl.socket.slow_consumer";
    case event::rate_limited:
      return "beryl.socket.rate_limited";
  }
  return "beryl.unknown";
}

const std::vector<event>& all_events() {
  static const std::vector<event> events = [] {
    std::vector<event> out;
    for (std::size_t i = 0; i < event_count; ++i) out.push_back(static_cast<event>(i));
    return out;
  }();
  return events;
}

bool attach(std::string id, std::vector<event> events, handler h) {
  auto& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto handlers = r.handlers_now();
  if (std::any_of(handlers.begin(), handlers.end(), [&](const auto& x) { return x->id == id; }))
    return false;
  handlers.push_back(std::make_shared<const attached_handler>(
      attached_handler{std::move(id), std::move(events), std::move(h)}));
  r.publish(std::move(handlers));
  return true;
}

bool detach(std::string_view id) {
  auto& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto handlers = r.handlers_now();
  auto gone =
      std::remove_if(handlers.begin(), handlers.end(), [&](const auto& x) { return x->id == id; });
  if (gone == handlers.end()) return false;
  handlers.erase(gone, handlers.end());
  r.publish(std::move(handlers));
  return true;
}

bool attached(event e) noexcept {
  auto bits = the_registry().listened.load(std::memory_order_relaxed);
  return (bits >> static_cast<unsigned>(e)) & 1u;
}

void execute(event e, const measurements& m, const metadata& meta) {
  if (!attached(e)) return;
  const auto* now = the_registry().current.load(std::memory_order_acquire);
  if (!now) return;
  for (const auto* h : now->by_event[static_cast<std::size_t>(e)]) {
    try {
      h->call(e, m, meta);
    } catch (...) {
      handler_failed(h->id, std::current_exception());
    }
  }
}

void on_handler_failure(std::function<void(std::string_view, std::string_view)> report) {
  auto& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.report_failure = std::move(report);
}

}  // namespace beryl::telemetry
