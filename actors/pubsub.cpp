#include "actors/pubsub.hpp"

#include "actors/atoms.hpp"
#include "actors/limited_log.hpp"
#include "actors/outbox_writers.hpp"
#include "core/counters.hpp"
#include "core/log_text.hpp"
#include "core/presence/topic_view.hpp"
#include "core/presence/wire.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <unordered_map>

namespace beryl {
namespace {

// Subscribers of one topic: a dense list to iterate on broadcast, an index to remove in O(1).
struct topic_subscribers {
  std::vector<subscription> list;
  std::unordered_map<std::uint64_t, std::size_t> position;

  void add(subscription s) {
    position[s.id] = list.size();
    list.push_back(std::move(s));
  }

  bool remove(std::uint64_t id) {
    auto it = position.find(id);
    if (it == position.end()) return false;
    auto at = it->second;
    position.erase(it);
    if (at + 1 != list.size()) {
      list[at] = std::move(list.back());
      position[list[at].id] = at;
    }
    list.pop_back();
    return true;
  }
};

// One frame per wire format, encoded on first use.
class encoded_once {
 public:
  // A client can make encoding fail at will (a binary broadcast whose event is too long for the
  // V2 binary header), so failures go to the shard's limited log.
  encoded_once(const std::string& topic, const std::string& event, const payload& body,
               limited_log& log)
      : topic_(topic), event_(event), body_(body), log_(log) {}

  // nullptr when this format cannot carry the payload (binary on V1).
  const frame* for_format(const serializer* format) {
    for (auto& [f, fr] : cache_)
      if (f == format) return fr.bytes ? &fr : nullptr;
    frame fr;
    try {
      fr = format->broadcast(topic_, event_, body_);
    } catch (const std::exception& e) {
      log_.warn(log_topic(topic_), "broadcast {} on {} not sent to {} clients: {}",
                log_text(event_), log_text(topic_), format->name(), log_text(e.what()));
    }
    cache_.emplace_back(format, std::move(fr));
    return cache_.back().second.bytes ? &cache_.back().second : nullptr;
  }

 private:
  const std::string& topic_;
  const std::string& event_;
  const payload& body_;
  limited_log& log_;
  std::vector<std::pair<const serializer*, frame>> cache_;
};

bool intercepted(const subscription& s, const std::string& event) {
  if (!s.out) return true;
  return s.intercepts &&
         std::find(s.intercepts->begin(), s.intercepts->end(), event) != s.intercepts->end();
}

// Who is in a topic as its diffs have told, and which presence shard incarnation told it.
struct topic_presence {
  caf::actor_id source = 0;
  presence::topic_view view;
};

struct shard_state {
  outbox_writers writers;
  std::unordered_map<std::string, topic_subscribers> topics;
  std::unordered_map<std::string, topic_presence> presence;
  limited_log log;
  cluster_forwarder cluster;  // none until a cluster attaches
  static inline const char* name = "pubsub_shard";
};

using shard_pointer = pubsub_shard_actor::stateful_pointer<shard_state>;

// Who gets what: intercepting channels get (out, event, body), the others the frame encoded once
// for their format. A presence_diff skips subscribers whose presence_state will include it.
void deliver(shard_pointer self, const std::string& topic, const std::string& event,
             const payload& body, std::uint64_t except, bool presence_diff = false) {
  counters::add(presence_diff ? counters::count::presence_diffs : counters::count::broadcasts);
  auto it = self->state.topics.find(topic);
  if (it == self->state.topics.end()) return;
  encoded_once encoded{topic, event, body, self->state.log};
  outbox_writers::batch writes{self->state.writers};
  caf::message to_interceptors;
  std::uint64_t delivered = 0;
  for (const auto& s : it->second.list) {
    if (s.id == except || (presence_diff && s.awaits_presence_state)) continue;
    ++delivered;
    if (intercepted(s, event)) {
      if (to_interceptors.empty())
        to_interceptors = caf::make_message(atoms::out::value, event, body);
      // The message is built once and shared by every interceptor; a typed send would copy the
      // payload for each. Its type is the event_receiver signature all the same.
      caf::anon_send(caf::actor_cast<caf::actor>(s.channel), to_interceptors);
    } else if (auto* f = encoded.for_format(s.format)) {
      if (s.out->send_deferred(*f)) writes.add(s.out);
    }
  }
  counters::add(counters::count::deliveries, delivered);
}

// Where `source`'s changes to the topic's presence go. A larger id is a restarted presence: what
// the old one told is gone with it. Nothing for an older one, whose channels are gone.
presence::topic_view* view_to_change(shard_pointer self, const std::string& topic,
                                     caf::actor_id source) {
  auto& known = self->state.presence[topic];
  if (known.source > source) return nullptr;
  if (known.source < source) known = topic_presence{source, {}};
  return &known.view;
}

// The topic's presence as the diffs so far tell it, as JSON text; "{}" when a restarted presence
// (`source` newer than the teller) has told nothing yet.
std::shared_ptr<const std::string> presence_text(shard_pointer self, const std::string& topic,
                                                 caf::actor_id source) {
  static const auto nobody = std::make_shared<const std::string>("{}");
  auto it = self->state.presence.find(topic);
  if (it == self->state.presence.end()) return nobody;
  if (it->second.source < source) {
    it->second = topic_presence{source, {}};
    return nobody;
  }
  return it->second.view.state_text();
}

pubsub_shard_actor::behavior_type pubsub_shard(shard_pointer self, outbox_writers writers) {
  self->state.writers = std::move(writers);
  return {
      // The join reply goes out from here, so it precedes every broadcast the channel receives.
      [=](atoms::subscribe, const std::string& topic, subscription& s, frame& join_reply) {
        if (join_reply.bytes) s.out->send_now(std::move(join_reply));
        self->state.topics[topic].add(std::move(s));
        return caf::ok_atom::value;
      },
      [=](atoms::presence, const std::string& topic, caf::actor_id source,
          const presence::topic_diff& changes) {
        auto* view = view_to_change(self, topic, source);
        if (!view) return;
        view->apply(changes);
        if (view->empty()) self->state.presence.erase(topic);
        deliver(self, topic, "presence_diff",
                payload{boost::json::value(presence::presence_diff_payload(changes))}, 0, true);
      },
      [=](atoms::state, const std::string& topic, std::uint64_t id, const ref_t& join_ref,
          caf::actor_id source) {
        auto it = self->state.topics.find(topic);
        if (it == self->state.topics.end()) return;
        auto at = it->second.position.find(id);
        if (at == it->second.position.end()) return;  // gone before its state was ready
        auto& s = it->second.list[at->second];
        if (s.out->send_deferred(s.format->push_text(join_ref, topic, "presence_state",
                                                     presence_text(self, topic, source))))
          self->state.writers.write({s.out});
        s.awaits_presence_state = false;
      },
      [=](atoms::unsubscribe, const std::string& topic, std::uint64_t id) {
        auto it = self->state.topics.find(topic);
        if (it == self->state.topics.end()) return false;
        bool removed = it->second.remove(id);
        if (it->second.list.empty()) self->state.topics.erase(it);
        return removed;
      },
      [=](atoms::broadcast, std::string& topic, std::string& event, payload& body,
          std::uint64_t except) {
        deliver(self, topic, event, body, except);
        if (self->state.cluster)
          self->send(self->state.cluster, atoms::broadcast::value, std::move(topic),
                     std::move(event), std::move(body));
      },
      [=](atoms::forward, const std::string& topic, const std::string& event, const payload& body) {
        deliver(self, topic, event, body, 0);
      },
      [=](atoms::cluster, cluster_forwarder& cluster) { self->state.cluster = std::move(cluster); },
      [=](atoms::mailbox) { return self->mailbox().size(); },
  };
}

}  // namespace

void pubsub_ref::broadcast(std::string topic, std::string event, payload body,
                           std::uint64_t except) const {
  const auto& shard = shard_for(topic);
  caf::anon_send(shard, atoms::broadcast::value, std::move(topic), std::move(event),
                 std::move(body), except);
}

namespace {

pubsub_actor::behavior_type pubsub_owner(pubsub_actor::pointer self, const pubsub_ref& ref,
                                         const std::vector<pubsub_shard_actor>& shards,
                                         const outbox_writers& writers) {
  for (const auto& shard : shards) self->link_to(shard);
  for (const auto& writer : writers.actors()) self->link_to(writer);
  return {
      // A broadcast from outside any channel (app::endpoint), to the topic's shard.
      [ref](atoms::broadcast, std::string& topic, std::string& event, payload& body) -> void {
        ref.broadcast(std::move(topic), std::move(event), std::move(body));
      },
  };
}

}  // namespace

pubsub_handle spawn_pubsub(caf::actor_system& sys, std::size_t shard_count) {
  // One writer per actor thread.
  auto writers = spawn_outbox_writers(sys, sys.scheduler().num_workers());
  std::vector<pubsub_shard_actor> shards;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, shard_count); ++i)
    shards.push_back(sys.spawn(pubsub_shard, writers));
  pubsub_ref ref{shards};
  return {sys.spawn(pubsub_owner, ref, std::move(shards), writers), ref};
}

}  // namespace beryl
