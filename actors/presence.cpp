#include "actors/presence.hpp"

#include "actors/atoms.hpp"
#include "core/presence/state.hpp"
#include "core/presence/wire.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <set>
#include <unordered_map>

namespace json = boost::json;

namespace beryl {
namespace {

using presence::entry_ptr;

// Changes waiting for the next presence_diff of each topic.
class pending_diffs {
 public:
  bool empty() const { return topics_.empty(); }

  void add(const presence::diff& d) {
    for (const auto& [topic, changes] : d) {
      auto& pending = topics_[topic];
      pending.joins.insert(pending.joins.end(), changes.joins.begin(), changes.joins.end());
      pending.leaves.insert(pending.leaves.end(), changes.leaves.begin(), changes.leaves.end());
    }
  }

  // The coalesced diffs. A version that joined and left within one interval (or left and came
  // back, as a replica going down and up does) cancels out: clients would end where they began.
  presence::diff take() {
    presence::diff out;
    for (auto& [topic, changes] : topics_) {
      std::multiset<std::string> joined, left;
      for (const auto& e : changes.joins) joined.insert(e->phx_ref);
      for (const auto& e : changes.leaves) left.insert(e->phx_ref);
      presence::topic_diff kept;
      for (const auto& e : changes.joins)
        if (!left.count(e->phx_ref)) kept.joins.push_back(e);
      for (const auto& e : changes.leaves)
        if (!joined.count(e->phx_ref)) kept.leaves.push_back(e);
      if (!kept.joins.empty() || !kept.leaves.empty()) out.emplace(topic, std::move(kept));
    }
    topics_.clear();
    return out;
  }

 private:
  std::unordered_map<std::string, presence::topic_diff> topics_;
};

struct presence_actor_state {
  std::unique_ptr<presence::state> replica;
  pubsub_ref pubsub;
  presence_settings settings;
  pending_diffs pending;
  bool flush_scheduled = false;
  std::unordered_map<caf::actor_addr, std::string> owners;  // monitored tracked actors -> pid
  static inline const char* name = "presence";
};

// The public protocol plus the actor's own coalescing timer.
using presence_impl = presence_actor::extend<caf::reacts_to<atoms::flush>>;
using presence_self = presence_impl::stateful_pointer<presence_actor_state>;

std::string pid_of(const caf::actor& owner) {
  return std::to_string(owner.id());
}

std::string incarnation() {
  using namespace std::chrono;
  return std::to_string(
      duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

const json::object& meta_of(const payload& p) {
  static const json::object empty;
  auto* object = as_object(p);
  return object ? *object : empty;
}

bool fits(presence_self self, const std::string& key, const payload& meta) {
  return presence::within_size_limit(key, meta_of(meta), self->state.settings.max_meta_bytes);
}

void record(presence_self self, const presence::diff& d) {
  if (d.empty()) return;
  auto& st = self->state;
  st.pending.add(d);
  if (st.flush_scheduled) return;
  st.flush_scheduled = true;
  self->delayed_send(self, st.settings.diff_interval, atoms::flush::value);
}

void flush(presence_self self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  for (const auto& [topic, changes] : st.pending.take()) {
    auto body = presence::presence_diff_payload(changes);
    st.pubsub.broadcast(topic, "presence_diff", json::value(std::move(body)));
  }
}

void watch(presence_self self, const caf::actor& owner) {
  if (self->state.owners.emplace(owner.address(), pid_of(owner)).second) self->monitor(owner);
}

presence_impl::behavior_type presence_behavior(presence_self self, pubsub_ref pubsub,
                                               presence_settings settings) {
  auto& st = self->state;
  st.replica =
      std::make_unique<presence::state>(presence::replica_id{settings.node, incarnation()});
  st.pubsub = std::move(pubsub);
  st.settings = std::move(settings);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto it = self->state.owners.find(dm.source);
    if (it == self->state.owners.end()) return;
    record(self, self->state.replica->untrack_all(it->second));
    self->state.owners.erase(it);
  });
  return {
      [self](atoms::track, const caf::actor& owner, const std::string& topic,
             const std::string& key, const payload& meta) -> caf::result<std::string> {
        if (!fits(self, key, meta))
          return caf::make_error(caf::sec::invalid_argument, presence::meta_too_large);
        auto r = self->state.replica->track(pid_of(owner), topic, key, meta_of(meta));
        if (r.status != presence::op_status::ok)
          return caf::make_error(caf::sec::invalid_argument, "already_tracked");
        watch(self, owner);
        record(self, r.changes);
        return r.entry->phx_ref;
      },
      [self](atoms::update, const caf::actor& owner, const std::string& topic,
             const std::string& key, const payload& meta) -> caf::result<std::string> {
        if (!fits(self, key, meta))
          return caf::make_error(caf::sec::invalid_argument, presence::meta_too_large);
        auto r = self->state.replica->update(pid_of(owner), topic, key, meta_of(meta));
        if (r.status != presence::op_status::ok)
          return caf::make_error(caf::sec::invalid_argument, "nopresence");
        record(self, r.changes);
        return r.entry->phx_ref;
      },
      [self](atoms::untrack, const caf::actor& owner, const std::string& topic,
             const std::string& key) {
        record(self, self->state.replica->untrack(pid_of(owner), topic, key));
        return caf::ok_atom::value;
      },
      [self](atoms::untrack, const caf::actor& owner) {
        record(self, self->state.replica->untrack_all(pid_of(owner)));
        return caf::ok_atom::value;
      },
      [self](atoms::list, const std::string& topic) {
        return payload{
            json::value(presence::presence_state_payload(self->state.replica->list(topic)))};
      },
      [self](atoms::list, const std::string& topic, const std::string& key) {
        auto grouped =
            presence::presence_state_payload(self->state.replica->get_by_key(topic, key));
        auto it = grouped.find(key);
        return payload{it == grouped.end() ? json::value(json::object{}) : it->value()};
      },
      [self](atoms::flush) { flush(self); },
  };
}

}  // namespace

presence_actor spawn_presence(caf::actor_system& sys, pubsub_ref pubsub,
                              presence_settings settings) {
  return sys.spawn(presence_behavior, std::move(pubsub), std::move(settings));
}

}  // namespace beryl
