#include "app/runtime/dashboard.hpp"

#include "actors/atoms.hpp"
#include "actors/channel.hpp"
#include "core/counters.hpp"
#include "core/telemetry.hpp"
#include "supervision/messages.hpp"
#include "supervision/registry.hpp"
#include "transport/listener.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <mutex>

namespace beryl::app {
namespace {

namespace json = boost::json;
namespace sv = supervision;

using tick_atom = caf::atom_constant<caf::atom("dash_tick")>;
using wake_atom = caf::atom_constant<caf::atom("dash_wake")>;

using dashboard_actor =
    caf::typed_actor<caf::reacts_to<tick_atom>,  // take a sample (every second, from itself)
                     caf::reacts_to<wake_atom>,  // new events in the timeline
                     // -> {"samples", "events", "tree", "crash_injection", "interval_ms"}: the
                     //    history a page gets when it joins
                     caf::replies_to<atoms::state>::with<json::value>>;

constexpr auto sample_interval = std::chrono::seconds(1);
constexpr auto ask_timeout = std::chrono::milliseconds(900);  // a busy actor shows as null
constexpr std::size_t max_reason_bytes = 2048;

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

// The last crashes and restarts, as the supervisors' telemetry tells them, from any thread.
class timeline {
 public:
  void add(json::object event) {
    std::lock_guard lock(mutex_);
    event["seq"] = ++seq_;
    events_.push_back(std::move(event));
    if (events_.size() > dashboard_events_kept) events_.pop_front();
  }

  // The events after `seq`, oldest first.
  json::array since(std::uint64_t seq) const {
    std::lock_guard lock(mutex_);
    json::array out;
    for (const auto& e : events_)
      if (e.at("seq").as_uint64() > seq) out.push_back(e);
    return out;
  }

  std::uint64_t last() const {
    std::lock_guard lock(mutex_);
    return seq_;
  }

  // True for the first event after the actor last looked: only that one wakes it, so a crash
  // storm costs the actor one message, not one per crash.
  bool needs_wake() { return !wake_pending_.exchange(true); }
  void woken() { wake_pending_ = false; }

 private:
  mutable std::mutex mutex_;
  std::deque<json::object> events_;
  std::uint64_t seq_ = 0;
  std::atomic<bool> wake_pending_{false};
};

json::object event_of(telemetry::event e, const telemetry::metadata& meta) {
  auto reason = meta.reason.substr(0, max_reason_bytes);
  return {{"time_ms", unix_ms()},
          {"event", e == telemetry::event::crash ? "crash" : "restart"},
          {"supervisor", meta.supervisor},
          {"child", meta.child},
          {"reason", reason},
          {"action", meta.action}};
}

// The crashes and restarts telemetry tells, and which dashboard actor to wake for them. Shared
// with the telemetry handler, which may still run while the tree goes away.
struct event_feed {
  timeline events;
  std::mutex actor_mutex;
  caf::actor_addr actor;  // the dashboard incarnation of the moment

  void record(telemetry::event e, const telemetry::metadata& meta) {
    events.add(event_of(e, meta));
    if (!events.needs_wake()) return;
    caf::actor_addr current;
    {
      std::lock_guard lock(actor_mutex);
      current = actor;
    }
    if (auto board = caf::actor_cast<dashboard_actor>(current))
      caf::anon_send(board, wake_atom::value);
    else
      events.woken();  // none runs now: the next one's page gets everything when it joins
  }
};

// What outlives the dashboard's incarnations: a restart of the tree restarts the dashboard too,
// and the page must still see the crash that caused it. It listens to telemetry from its creation
// (with the tree) to its end.
class dashboard_history {
 public:
  dashboard_history() : telemetry_id_("beryl.dashboard." + std::to_string(next_id()++)) {
    telemetry::attach(telemetry_id_, {telemetry::event::crash, telemetry::event::restart},
                      [feed = feed](telemetry::event e, const telemetry::measurements&,
                                    const telemetry::metadata& meta) { feed->record(e, meta); });
  }
  ~dashboard_history() { telemetry::detach(telemetry_id_); }
  dashboard_history(const dashboard_history&) = delete;
  dashboard_history& operator=(const dashboard_history&) = delete;

  std::shared_ptr<event_feed> feed = std::make_shared<event_feed>();
  std::deque<json::object> samples;  // touched only by the dashboard actor of the moment

  void set_actor(caf::actor_addr actor) {
    std::lock_guard lock(feed->actor_mutex);
    feed->actor = std::move(actor);
  }
  timeline& events() { return feed->events; }

 private:
  static std::atomic<std::uint64_t>& next_id() {
    static std::atomic<std::uint64_t> id{0};
    return id;
  }

  std::string telemetry_id_;
};

// Rates per second between two readings of the counters.
json::object rates(const counters::totals& now, const counters::totals& before, double seconds) {
  using counters::count;
  auto per_s = [&](count c) {
    return seconds > 0 ? static_cast<double>(now[c] - before[c]) / seconds : 0.0;
  };
  std::uint64_t errors_now = 0, errors_before = 0;
  for (std::size_t e = 0; e < counters::error_kinds; ++e) {
    errors_now += now.errors[e];
    errors_before += before.errors[e];
  }
  return {{"joins_per_s", per_s(count::joins)},
          {"leaves_per_s", per_s(count::leaves)},
          {"messages_in_per_s", per_s(count::messages_in)},
          {"messages_out_per_s", per_s(count::messages_out)},
          {"bytes_in_per_s", per_s(count::bytes_in)},
          {"bytes_out_per_s", per_s(count::bytes_out)},
          {"broadcasts_per_s", per_s(count::broadcasts)},
          {"deliveries_per_s", per_s(count::deliveries)},
          {"presence_diffs_per_s", per_s(count::presence_diffs)},
          {"errors_per_s",
           seconds > 0 ? static_cast<double>(errors_now - errors_before) / seconds : 0.0}};
}

struct dashboard_state {
  static inline const char* name = "dashboard";

  pubsub_ref pubsub;
  presence_ref presence;
  caf::actor_addr root;  // the supervisor whose tree is drawn (weak: it owns us)
  bool crash_injection = false;
  std::shared_ptr<dashboard_history> history;
  std::uint64_t events_sent = 0;  // the last event broadcast
  json::value tree;
  counters::totals last_counts;
  std::chrono::steady_clock::time_point last_time;
  bool sampling = false;  // answers of the last tick still awaited: skip a tick rather than pile up
};

using dashboard_self = dashboard_actor::stateful_pointer<dashboard_state>;

void broadcast(dashboard_self self, const char* event, json::value body) {
  self->state.pubsub.broadcast(dashboard_topic, event, payload(std::move(body)));
}

// One sample: what the counters say at once, then what the tree, the listener and the shards
// answer. Sent to the page when the last answer (or its timeout) is in.
class sampler : public std::enable_shared_from_this<sampler> {
 public:
  explicit sampler(dashboard_self self) : self_(self) {}

  void start() {
    auto& st = self_->state;
    auto now_counts = counters::read();
    auto now = std::chrono::steady_clock::now();
    sample_ = rates(now_counts, st.last_counts,
                    std::chrono::duration<double>(now - st.last_time).count());
    st.last_counts = now_counts;
    st.last_time = now;
    sample_["time_ms"] = unix_ms();
    sample_["rss_bytes"] = rss_bytes();
    sample_["metrics"] = counters::enabled();
    sample_["connections"] = nullptr;
    // Filled in by index as the shards answer; null for one that does not.
    auto pubsub_shards = st.pubsub.valid() ? st.pubsub.shards().size() : 0;
    auto presence_shards = st.presence.valid() ? st.presence.shards().size() : 0;
    sample_["pubsub_mailboxes"] = json::array(pubsub_shards);
    sample_["presence_mailboxes"] = json::array(presence_shards);
    st.sampling = true;

    ask_tree();
    ask_listener();
    for (std::size_t i = 0; i < pubsub_shards; ++i)
      ask_mailbox(st.pubsub.shards()[i], "pubsub_mailboxes", i);
    for (std::size_t i = 0; i < presence_shards; ++i)
      ask_mailbox(st.presence.shards()[i], "presence_mailboxes", i);
    answered();  // the counters
  }

 private:
  void ask_tree() {
    auto root = caf::actor_cast<caf::actor>(self_->state.root);
    if (!root) return;
    ++awaited_;
    self_->request(root, ask_timeout, sv::snapshot_atom::value)
        .then(
            [self = shared_from_this()](json::value& tree) {
              self->self_->state.tree = std::move(tree);
              self->answered();
            },
            [self = shared_from_this()](caf::error&) { self->answered(); });
  }

  void ask_listener() {
    auto listener = caf::actor_cast<listener_actor>(sv::lookup(self_->system(), "listener"));
    if (!listener) return;
    ++awaited_;
    self_->request(listener, ask_timeout, atoms::stats::value)
        .then(
            [self = shared_from_this()](const json::value& stats) {
              if (const auto* o = stats.if_object())
                if (const auto* open = o->if_contains("connections"))
                  self->sample_["connections"] = *open;
              self->answered();
            },
            [self = shared_from_this()](caf::error&) { self->answered(); });
  }

  template <class Shard>
  void ask_mailbox(const Shard& shard, const char* key, std::size_t index) {
    ++awaited_;
    self_->request(shard, ask_timeout, atoms::mailbox::value)
        .then(
            [self = shared_from_this(), key, index](std::size_t size) {
              self->sample_[key].as_array()[index] = size;
              self->answered();
            },
            [self = shared_from_this()](caf::error&) { self->answered(); });
  }

  void answered() {
    if (awaited_-- > 0) return;
    auto& st = self_->state;
    st.sampling = false;
    auto& samples = st.history->samples;
    samples.push_back(sample_);
    if (samples.size() > dashboard_samples_kept) samples.pop_front();
    broadcast(self_, "sample", std::move(sample_));
    broadcast(self_, "tree", st.tree);
  }

  dashboard_self self_;
  json::object sample_;
  int awaited_ = 0;  // answers still to come, the counters' own included
};

void send_new_events(dashboard_self self) {
  auto& st = self->state;
  st.history->events().woken();
  auto fresh = st.history->events().since(st.events_sent);
  if (fresh.empty()) return;
  st.events_sent = fresh.back().at("seq").as_uint64();
  broadcast(self, "events", json::object{{"events", std::move(fresh)}});  // payloads are objects
}

dashboard_actor::behavior_type dashboard(dashboard_self self, caf::actor_addr root,
                                         pubsub_ref pubsub, presence_ref presence,
                                         bool crash_injection,
                                         std::shared_ptr<dashboard_history> history) {
  auto& st = self->state;
  st.root = std::move(root);
  st.pubsub = std::move(pubsub);
  st.presence = std::move(presence);
  st.crash_injection = crash_injection;
  st.history = std::move(history);
  // Pages that rejoin after a restart get every event in their join reply.
  st.events_sent = st.history->events().last();
  st.last_counts = counters::read();
  st.last_time = std::chrono::steady_clock::now();
  st.history->set_actor(caf::actor_cast<caf::actor_addr>(self));
  st.history->events().woken();
  self->send(self, tick_atom::value);
  return {
      [self](tick_atom) {
        self->delayed_send(self, sample_interval, tick_atom::value);
        if (!self->state.sampling) std::make_shared<sampler>(self)->start();
      },
      [self](wake_atom) { send_new_events(self); },
      [self](atoms::state) -> json::value {
        auto& st = self->state;
        const auto& kept = st.history->samples;
        json::array samples(kept.begin(), kept.end());
        return json::object{{"samples", std::move(samples)},
                            {"events", st.history->events().since(0)},
                            {"tree", st.tree},
                            {"crash_injection", st.crash_injection},
                            {"interval_ms", std::chrono::milliseconds(sample_interval).count()}};
      },
  };
}

// "beryl:dashboard": its join reply is the dashboard's history; the rest are broadcasts.
class dashboard_channel : public channel {
 public:
  using channel::channel;

 protected:
  reply join(const payload&) override {
    auto board = caf::actor_cast<dashboard_actor>(sv::lookup(system(), "dashboard"));
    if (!board) return reply::error({{"reason", "the dashboard is not running"}});
    request(board, std::chrono::seconds(5), atoms::state::value)
        .then(
            [this](json::value& history) { complete_join(reply::ok(payload(std::move(history)))); },
            [this](caf::error&) {
              complete_join(reply::error({{"reason", "the dashboard did not answer"}}));
            });
    return reply::later();
  }
};

}  // namespace

sv::child_spec dashboard_spec(std::shared_ptr<const pubsub_ref> pubsub,
                              std::shared_ptr<const presence_ref> presence, bool crash_injection) {
  auto history = std::make_shared<dashboard_history>();
  auto spec = sv::worker_spec("dashboard", [=](caf::local_actor* parent) {
    return caf::actor_cast<caf::actor>(parent->spawn(dashboard,
                                                     caf::actor_cast<caf::actor_addr>(parent),
                                                     *pubsub, *presence, crash_injection, history));
  });
  spec.registered = true;  // its channel finds it by name
  return spec;
}

std::shared_ptr<const router> with_dashboard_channel(const std::shared_ptr<const router>& app) {
  auto routes = std::make_shared<router>();
  routes->add<dashboard_channel>(dashboard_topic);
  if (app) routes->add_routes(*app);
  return routes;
}

}  // namespace beryl::app
