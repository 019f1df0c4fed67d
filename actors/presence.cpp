#include "actors/presence.hpp"

#include "actors/atoms.hpp"
#include "actors/limited_log.hpp"
#include "core/log_text.hpp"
#include "core/presence/coalescing_window.hpp"
#include "core/presence/pending_changes.hpp"
#include "core/presence/state.hpp"
#include "core/presence/wire.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace json = boost::json;

namespace beryl {
namespace {

struct shard_state {
  std::unique_ptr<presence::replicator> replica;
  std::size_t index = 0;       // this shard's place among the node's shards
  cluster_replicator cluster;  // once attached (clustered only)
  pubsub_ref pubsub;
  presence_settings settings;
  presence::pending_changes pending;
  std::optional<presence::coalescing_window> window;
  // Subscribers whose presence_state goes out after the next diff of their topic.
  struct waiting_member {
    std::uint64_t subscriber;
    ref_t join_ref;
  };
  std::unordered_map<std::string, std::vector<waiting_member>> waiting;
  bool flush_scheduled = false;
  std::unordered_map<caf::actor_addr, std::string> owners;  // monitored tracked actors -> pid
  limited_log log;
  static inline const char* name = "presence_shard";
};

// The public protocol plus the shard's own timers: coalescing, and replication's ticks.
using shard_impl =
    presence_shard_actor::extend<caf::reacts_to<atoms::flush>, caf::reacts_to<atoms::tick>>;
using shard_self = shard_impl::stateful_pointer<shard_state>;

std::string pid_of(const caf::actor& owner) {
  return std::to_string(owner.id());
}

// One start of one shard: a replica of its own, so refs never collide between shards or starts.
presence::replica_id replica_of(const presence_settings& settings, std::size_t shard) {
  using namespace std::chrono;
  auto started = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return {settings.node, std::to_string(started) + "." + std::to_string(shard)};
}

const json::object& meta_of(const payload& p) {
  static const json::object empty;
  auto* object = as_object(p);
  return object ? *object : empty;
}

bool fits(shard_self self, const std::string& key, const payload& meta) {
  return presence::within_size_limit(key, meta_of(meta), self->state.settings.max_meta_bytes);
}

// The topic's pubsub shard writes the subscriber's presence_state from the topic's presence as
// the diffs so far told it (actors/pubsub.hpp).
void send_state(shard_self self, const std::string& topic, std::uint64_t subscriber,
                ref_t join_ref) {
  caf::anon_send(self->state.pubsub.shard_for(topic), atoms::state::value, topic, subscriber,
                 std::move(join_ref), self->id());
}

// Each topic's coalesced changes go to its pubsub shard, which broadcasts them and keeps the
// topic's presence (actors/pubsub.hpp); the states waiting for them follow, in that order.
void flush(shard_self self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  st.window->close(presence::coalescing_window::clock::now());
  for (auto& [topic, changes] : st.pending.take_all())
    caf::anon_send(st.pubsub.shard_for(topic), atoms::presence::value, topic, self->id(),
                   std::move(changes));
  for (auto& [topic, members] : st.waiting)
    for (auto& m : members) send_state(self, topic, m.subscriber, std::move(m.join_ref));
  st.waiting.clear();
  // A single node has no peers to ship the operations it records for them to.
  if (!st.settings.clustered) st.replica->drop_unshipped();
}

// A change goes out at once after a quiet spell, or with the others at the end of the window.
void record(shard_self self, const presence::diff& d) {
  if (d.empty()) return;
  auto& st = self->state;
  st.pending.add(d);
  if (st.flush_scheduled) return;
  std::size_t presences = 0;  // in the biggest topic changed
  for (const auto& [topic, changes] : d)
    presences = std::max(presences, st.replica->local().entries_in(topic));
  auto hold = st.window->open(presence::coalescing_window::clock::now(), presences);
  if (hold == hold.zero()) return flush(self);
  st.flush_scheduled = true;
  self->delayed_send(self, hold, atoms::flush::value);
}

// What replication asks for (core/presence/replication.hpp): local clients told of remote
// changes like local ones, messages to the same shard of other nodes through the cluster.
void apply(shard_self self, presence::effects&& effects) {
  auto& st = self->state;
  record(self, effects.changes);
  for (const auto& e : effects.events)
    spdlog::debug("presence: node '{}' ({}) is {} for shard {}", log_text(e.replica.node),
                  log_text(e.replica.vsn),
                  e.what == presence::replica_event::kind::up     ? "up"
                  : e.what == presence::replica_event::kind::down ? "down: its presences left"
                                                                  : "gone for good",
                  st.index);
  if (!st.cluster) return;
  for (auto& m : effects.messages)
    self->send(st.cluster, atoms::replicate::value, std::move(m.to), std::uint64_t{st.index},
               std::uint64_t{st.settings.shards},
               presence::encode(presence::envelope{st.replica->self(), std::move(m.message)}));
}

void on_replication_tick(shard_self self) {
  apply(self, self->state.replica->tick(presence::replicator::time_point::clock::now()));
  self->delayed_send(self, self->state.settings.replication.broadcast_period, atoms::tick::value);
}

void watch(shard_self self, const caf::actor& owner) {
  if (self->state.owners.emplace(owner.address(), pid_of(owner)).second) self->monitor(owner);
}

shard_impl::behavior_type presence_shard(shard_self self, pubsub_ref pubsub,
                                         presence_settings settings, std::size_t index) {
  auto& st = self->state;
  st.replica =
      std::make_unique<presence::replicator>(replica_of(settings, index), settings.replication);
  st.index = index;
  if (settings.clustered) self->send(self, atoms::tick::value);
  st.pubsub = std::move(pubsub);
  st.settings = std::move(settings);
  st.window.emplace(st.settings.diff_interval, st.settings.diff_interval_max);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto it = self->state.owners.find(dm.source);
    if (it == self->state.owners.end()) return;
    record(self, self->state.replica->untrack_all(it->second));
    self->state.owners.erase(it);
  });
  return {
      [self](atoms::mailbox) { return self->mailbox().size(); },
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
      [self](atoms::state, std::string& topic, std::uint64_t subscriber, ref_t& join_ref) {
        auto& st = self->state;
        if (st.pending.has(topic))
          st.waiting[topic].push_back({subscriber, std::move(join_ref)});
        else
          send_state(self, topic, subscriber, std::move(join_ref));
      },
      [self](atoms::list, const std::string& topic) {
        return payload{json::value(
            presence::presence_state_payload(self->state.replica->local().list(topic)))};
      },
      [self](atoms::list, const std::string& topic, const std::string& key) {
        auto grouped =
            presence::presence_state_payload(self->state.replica->local().get_by_key(topic, key));
        auto it = grouped.find(key);
        return payload{it == grouped.end() ? json::value(json::object{}) : it->value()};
      },
      [self](atoms::flush) { flush(self); },
      [self](atoms::tick) { on_replication_tick(self); },
      [self](atoms::replicate, const std::string& text) {
        auto envelope = presence::decode_envelope(text);
        if (!envelope) {
          self->state.log.warn("presence: a malformed replication message for shard {} dropped",
                               self->state.index);
          return;
        }
        apply(self, self->state.replica->receive(*envelope,
                                                 presence::replicator::time_point::clock::now()));
      },
      [self](atoms::cluster, cluster_replicator& cluster) {
        // A new cluster actor: the connections the old one reported are gone with it.
        auto& st = self->state;
        auto connected = st.replica->connected();  // a copy: peer_lost changes it
        for (const auto& node : connected) st.replica->peer_lost(node);
        st.cluster = std::move(cluster);
      },
      [self](atoms::peer, const std::string& node, bool connected) {
        if (connected) {
          presence::effects greeting;
          greeting.messages = self->state.replica->peer_connected(node);
          apply(self, std::move(greeting));
        } else {
          self->state.replica->peer_lost(node);
        }
      },
      [self](atoms::leave, const std::string& node) {
        apply(self, self->state.replica->node_left(node));
      },
  };
}

presence_actor::behavior_type presence_owner(presence_actor::pointer self,
                                             const presence_ref& ref) {
  for (const auto& shard : ref.shards()) self->link_to(shard);
  return {
      [self, ref](atoms::list a, std::string& topic) {
        const auto& shard = ref.shard_for(topic);
        return self->delegate(shard, a, std::move(topic));
      },
      [self, ref](atoms::list a, std::string& topic, std::string& key) {
        const auto& shard = ref.shard_for(topic);
        return self->delegate(shard, a, std::move(topic), std::move(key));
      },
  };
}

}  // namespace

presence_handle spawn_presence(caf::actor_system& sys, pubsub_ref pubsub,
                               presence_settings settings) {
  settings.shards = std::max<std::size_t>(1, settings.shards);
  std::vector<presence_shard_actor> shards;
  for (std::size_t i = 0; i < settings.shards; ++i)
    shards.push_back(
        caf::actor_cast<presence_shard_actor>(sys.spawn(presence_shard, pubsub, settings, i)));
  presence_ref ref{shards};
  return {sys.spawn(presence_owner, ref), ref};
}

}  // namespace beryl
