// Property tests of the presence CRDT (docs/presence.md §5). Random operation sequences on 2-4
// replicas run under random delivery: drops, duplicates, reordering, late deltas and full states,
// partitions (down/up), restarts as new incarnations and permdowns. Every step is checked, and
// so are the merge laws on random histories. A phoenix.js client model follows every node.
//
// Each run has its own seed, shown with any failure: BERYL_PROPERTY_SEED=<seed> makes it the
// first run of every property.
#include "core/presence/codec.hpp"
#include "core/presence/state.hpp"
#include "core/presence/wire.hpp"
#include "seeded_random.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace json = boost::json;
using namespace beryl::presence;
using beryl::testing::random_source;
using beryl::testing::run_seed;

namespace {

// ---- seeded randomness --------------------------------------------------------------------

// Stops the test case at the first violation; the seed and the event come from INFO scopes.
void expect(bool ok, const char* property) {
  if (!ok) FAIL(std::string(property));
}

// ---- phoenix.js Presence.syncState / syncDiff, ported from phoenix 1.8.16 ------------------

std::string ref_of(const json::value& meta) {
  return std::string(meta.at("phx_ref").as_string());
}

std::set<std::string> refs_in(const json::value& presence) {
  std::set<std::string> out;
  for (const auto& meta : presence.at("metas").as_array()) out.insert(ref_of(meta));
  return out;
}

json::array metas_without(const json::value& presence, const std::set<std::string>& refs) {
  json::array out;
  for (const auto& meta : presence.at("metas").as_array()) {
    if (refs.count(ref_of(meta)) == 0) out.push_back(meta);
  }
  return out;
}

// Joins first (the joined presence replaces the key's, older metas put back in front), then
// leaves (listed refs removed, an emptied key deleted).
json::object sync_diff(json::object state, const json::object& diff) {
  for (const auto& [key, joined] : diff.at("joins").as_object()) {
    json::object presence = joined.as_object();
    if (const auto* current = state.if_contains(key)) {
      auto metas = metas_without(*current, refs_in(joined));
      for (const auto& meta : joined.at("metas").as_array()) metas.push_back(meta);
      presence["metas"] = std::move(metas);
    }
    state[key] = std::move(presence);
  }
  for (const auto& [key, left] : diff.at("leaves").as_object()) {
    auto* current = state.if_contains(key);
    if (!current) continue;
    auto metas = metas_without(*current, refs_in(left));
    if (metas.empty()) {
      state.erase(key);
    } else {
      current->as_object()["metas"] = std::move(metas);
    }
  }
  return state;
}

// A fresh presence_state (after a rejoin) becomes a diff against the current client state.
json::object sync_state(json::object current, const json::object& fresh) {
  json::object joins;
  json::object leaves;
  for (const auto& [key, presence] : current) {
    if (!fresh.contains(key)) leaves[key] = presence;
  }
  for (const auto& [key, fresh_presence] : fresh) {
    const auto* current_presence = current.if_contains(key);
    if (!current_presence) {
      joins[key] = fresh_presence;
      continue;
    }
    auto joined_metas = metas_without(fresh_presence, refs_in(*current_presence));
    auto left_metas = metas_without(*current_presence, refs_in(fresh_presence));
    if (!joined_metas.empty()) {
      json::object presence = fresh_presence.as_object();
      presence["metas"] = std::move(joined_metas);
      joins[key] = std::move(presence);
    }
    if (!left_metas.empty()) {
      json::object presence = current_presence->as_object();
      presence["metas"] = std::move(left_metas);
      leaves[key] = std::move(presence);
    }
  }
  return sync_diff(std::move(current), json::object{{"joins", joins}, {"leaves", leaves}});
}

// Metas per key in ref order: the client and server orders legitimately differ.
json::object sorted_by_key(const json::object& presences) {
  json::object out;
  for (const auto& [key, presence] : presences) {
    auto metas = presence.at("metas").as_array();
    std::sort(metas.begin(), metas.end(),
              [](const json::value& a, const json::value& b) { return ref_of(a) < ref_of(b); });
    out[key] = std::move(metas);
  }
  return out;
}

// The payload as a client receives it: serialized text, parsed.
json::object over_the_wire(const json::object& payload) {
  return json::parse(json::serialize(payload)).as_object();
}

// ---- observations -------------------------------------------------------------------------

const std::vector<std::string> topics{"room:a", "room:b"};
const std::vector<std::string> keys{"alice", "bob", "__proto__"};
const std::vector<std::string> pids{"p1", "p2", "p3"};
const replica_id observer{"observer", "0"};  // owns nothing: its extract is the whole state

using visible_set = std::map<dot, entry_ptr>;

bool same_entry(const entry& a, const entry& b) {
  return a.topic == b.topic && a.key == b.key && a.pid == b.pid && a.meta == b.meta &&
         a.tag == b.tag && a.previous_clock == b.previous_clock && a.phx_ref == b.phx_ref &&
         a.phx_ref_prev == b.phx_ref_prev;
}

// What clients can see, checking the reads agree with each other on the way (§13: phx_ref
// unique per topic).
visible_set observe(const state& s) {
  visible_set out;
  for (const auto& topic : topics) {
    std::set<std::string> refs;
    auto listed = s.list(topic);
    for (const auto& e : listed) {
      expect(e->topic == topic, "list(topic) returns that topic's entries");
      expect(s.status(e->tag.replica) == replica_status::up, "reads show only up replicas");
      expect(refs.insert(e->phx_ref).second, "phx_ref is unique per topic");
      out.emplace(e->tag, e);
    }
    std::size_t by_keys = 0;
    for (const auto& key : keys) {
      for (const auto& e : s.get_by_key(topic, key)) {
        expect(e->key == key && out.count(e->tag) == 1, "get_by_key agrees with list");
        ++by_keys;
      }
    }
    expect(by_keys == listed.size(), "get_by_key agrees with list");
  }
  return out;
}

std::string fingerprint(const state& s) {
  return encode(s.extract(observer));
}

// §9: visible_after = (visible_before + joins) - leaves, by tag; a join is new, a leave was
// visible, and no version is in both.
void check_diff(const visible_set& before, const diff& changes, const visible_set& after) {
  visible_set expected = before;
  for (const auto& [topic, change] : changes) {
    expect(!change.joins.empty() || !change.leaves.empty(), "a diff lists no unchanged topic");
    for (const auto& e : change.joins) {
      expect(e->topic == topic, "a diff files entries under their topic");
      expect(before.count(e->tag) == 0, "a join was not visible before");
      expect(expected.emplace(e->tag, e).second, "a version joins once");
    }
    for (const auto& e : change.leaves) {
      expect(e->topic == topic, "a diff files entries under their topic");
      auto was = before.find(e->tag);
      expect(was != before.end() && was->second == e, "a leave was visible before");
      expect(expected.erase(e->tag) == 1, "a version does not both join and leave");
    }
  }
  expect(expected == after, "visible after = (visible before + joins) - leaves");
}

// §6: no context entry ever decreases; only a permdowned replica may vanish.
void check_monotone(const clock_map& before, const clock_map& after, const replica_id* permdowned) {
  for (const auto& [replica, clock] : before) {
    auto now = after.find(replica);
    if (now == after.end()) {
      expect(permdowned && *permdowned == replica, "context entries vanish only by permdown");
    } else {
      expect(now->second >= clock, "context never decreases");
    }
  }
}

// ---- the cluster --------------------------------------------------------------------------

struct options {
  bool lossless = false;  // every delta delivered and no full state: deltas alone converge
  bool lifecycle = true;  // partitions, restarts and permdowns
  bool all_up = false;    // every node knows every other from the start
};

using own_key = std::tuple<std::string, std::string, std::string>;  // pid, topic, key

struct node {
  std::string name;
  int incarnation = 0;
  state st;
  std::map<own_key, entry_ptr> own;             // what the operations' results say it tracks
  std::map<std::string, json::object> clients;  // one phoenix.js client per topic
  // The newest version stored so far per slot (topic, key, owner, pid): older ones are dead.
  std::map<std::tuple<std::string, std::string, replica_id, std::string>, std::uint64_t> newest;
  std::set<dot> stored;  // the versions stored after the last change
  std::set<dot> gone;    // versions removed from the store: they are dead for good
};

struct message {
  std::size_t to;
  std::optional<delta> d;
  std::optional<snapshot> s;
};

bool message_covers(const message& m, const dot& tag) {
  if (m.s) return m.s->causality.contains(tag);
  auto cloud = m.d->clouds.find(tag.replica);
  return cloud != m.d->clouds.end() && cloud->second.count(tag.clock) > 0;
}

std::uint64_t highest_dot_of(const message& m, const replica_id& replica) {
  std::uint64_t highest = 0;
  const auto& values = m.s ? m.s->values : m.d->values;
  const auto& clouds = m.s ? m.s->causality.clouds : m.d->clouds;
  for (const auto& [tag, e] : values) {
    if (tag.replica == replica) highest = std::max(highest, tag.clock);
  }
  auto cloud = clouds.find(replica);
  if (cloud != clouds.end()) highest = std::max(highest, *cloud->second.rbegin());
  if (m.s) {
    auto prefix = m.s->causality.context.find(replica);
    if (prefix != m.s->causality.context.end()) highest = std::max(highest, prefix->second);
  }
  return highest;
}

// A merge may drop a held version when a newer version of the same slot arrives.
bool superseded(const diff& changes, const entry& old) {
  auto topic = changes.find(old.topic);
  if (topic == changes.end()) return false;
  for (const auto& e : topic->second.joins) {
    if (e->key == old.key && e->pid == old.pid && e->tag.replica == old.tag.replica &&
        e->tag.clock > old.tag.clock) {
      return true;
    }
  }
  return false;
}

class cluster {
 public:
  cluster(random_source& random, std::size_t size, options opts) : random_(random), opts_(opts) {
    for (std::size_t i = 0; i < size; ++i) {
      std::string name = "n" + std::to_string(i) + "@host";
      nodes_.push_back(node{name, 0, state(replica_id{name, "0"}), {}, {}, {}, {}, {}});
      for (const auto& topic : topics) nodes_.back().clients[topic] = json::object{};
    }
    if (opts_.all_up || opts_.lossless) {
      for (auto& y : nodes_) {
        for (auto& x : nodes_) {
          if (&x != &y) y.st.replica_up(x.st.self());
        }
      }
    }
  }

  std::string event() const { return event_; }
  std::size_t size() const { return nodes_.size(); }
  node& at(std::size_t i) { return nodes_[i]; }

  void step() {
    auto roll = random_.below(100);
    if (opts_.lossless) {
      if (roll < 40) return local_operation(random_node());
      if (roll < 60) return flush(random_node());
      if (roll < 95) return deliver_random();
      return rejoin(random_node(), random_.pick(topics));
    }
    if (roll < 35) return local_operation(random_node());
    if (roll < 50) return flush(random_node());
    if (roll < 72) return deliver_random();
    if (roll < 78) return transfer(random_node(), random_node());
    if (roll < 84) return mark_up(random_node(), random_node());
    if (roll < 87) return rejoin(random_node(), random_.pick(topics));
    if (!opts_.lifecycle) return deliver_random();
    if (roll < 91) return mark_down(random_node(), random_node());
    if (roll < 93) return restart(random_node());
    if (roll < 98) return permdown_dead(random_node());
    return stale_up(random_node());
  }

  // Lets every message arrive (lossless) or heals everything and exchanges full states, then
  // checks §1: every node lists exactly the entries the live incarnations track.
  void heal_and_check_convergence() {
    if (opts_.lossless) {
      for (;;) {
        for (auto& n : nodes_) flush(n);
        if (in_flight_.empty()) break;
        while (!in_flight_.empty()) deliver_random();
      }
    } else {
      for (auto& y : nodes_) {
        for (const auto& dead : dead_) permdown(y, dead);
        for (auto& x : nodes_) mark_up(y, x);
      }
      while (!in_flight_.empty()) deliver_random();
      for (std::size_t y = 0; y < nodes_.size(); ++y) {
        for (auto& x : nodes_) {
          if (&x != &nodes_[y])
            deliver(message{y, std::nullopt, x.st.extract(nodes_[y].st.self())});
        }
      }
    }
    event_ = "convergence";
    visible_set truth;
    for (const auto& n : nodes_) {
      for (const auto& [where, e] : n.own) truth.emplace(e->tag, e);
    }
    for (const auto& n : nodes_) {
      auto seen = observe(n.st);
      expect(seen.size() == truth.size(), "convergence: every node lists every live entry");
      for (const auto& [tag, e] : seen) {
        auto real = truth.find(tag);
        expect(real != truth.end() && same_entry(*real->second, *e),
               "convergence: every node lists only live entries, unchanged");
      }
    }
  }

 private:
  node& random_node() { return nodes_[random_.below(nodes_.size())]; }

  json::object next_meta() {
    return {{"n", ++metas_}, {"device", random_.percent(50) ? "a" : "b"}};
  }

  void record_created(const entry_ptr& e) {
    expect(created_.emplace(e->tag, e).second, "tags are never reused");
    expect(refs_.insert(e->phx_ref).second, "phx_refs are never reused");
  }

  static bool only_change(const diff& changes, const std::string& topic,
                          const std::vector<entry_ptr>& joins,
                          const std::vector<entry_ptr>& leaves) {
    auto found = changes.find(topic);
    return changes.size() == 1 && found != changes.end() && found->second.joins == joins &&
           found->second.leaves == leaves;
  }

  void local_operation(node& n) {
    const auto& pid = random_.pick(pids);
    const auto& topic = random_.pick(topics);
    const auto& key = random_.pick(keys);
    own_key where{pid, topic, key};
    auto held = n.own.count(where) ? n.own[where] : nullptr;
    auto before = observe(n.st);
    auto clock_before = n.st.clock();
    std::uint64_t dots = 0;
    diff changes;
    auto kind = random_.below(9);
    if (kind < 4) {
      event_ = "track";
      auto result = n.st.track(pid, topic, key, next_meta());
      if (held) {
        expect(
            result.status == op_status::already_tracked && !result.entry && result.changes.empty(),
            "tracking a tracked entry fails with already_tracked");
      } else {
        expect(result.status == op_status::ok && result.entry, "track succeeds");
        expect(result.entry->tag.replica == n.st.self() && !result.entry->phx_ref_prev,
               "a track makes an own version without phx_ref_prev");
        expect(only_change(result.changes, topic, {result.entry}, {}),
               "a track's diff is its join");
        record_created(result.entry);
        n.own[where] = result.entry;
        changes = std::move(result.changes);
        dots = 1;
      }
    } else if (kind < 6) {
      event_ = "update";
      auto result = n.st.update(pid, topic, key, next_meta());
      if (!held) {
        expect(result.status == op_status::nopresence && result.changes.empty(),
               "updating an untracked entry fails with nopresence");
      } else {
        expect(result.status == op_status::ok && result.entry, "update succeeds");
        expect(result.entry->phx_ref_prev == held->phx_ref &&
                   result.entry->previous_clock == held->tag.clock,
               "phx_ref_prev is the previous version's phx_ref");
        expect(only_change(result.changes, topic, {result.entry}, {held}),
               "an update's diff joins the new version and leaves the old one");
        record_created(result.entry);
        n.own[where] = result.entry;
        changes = std::move(result.changes);
        dots = 2;
      }
    } else if (kind < 8) {
      event_ = "untrack";
      changes = n.st.untrack(pid, topic, key);
      if (held) {
        expect(only_change(changes, topic, {}, {held}), "an untrack's diff is its leave");
        n.own.erase(where);
        dots = 1;
      } else {
        expect(changes.empty(), "untracking an untracked entry changes nothing");
      }
    } else {
      event_ = "untrack_all";
      changes = n.st.untrack_all(pid);
      std::set<dot> expected;
      for (auto it = n.own.begin(); it != n.own.end();) {
        if (std::get<0>(it->first) != pid) {
          ++it;
          continue;
        }
        expected.insert(it->second->tag);
        it = n.own.erase(it);
      }
      std::set<dot> left;
      for (const auto& [t, change] : changes) {
        expect(change.joins.empty(), "untrack_all only leaves");
        for (const auto& e : change.leaves) left.insert(e->tag);
      }
      expect(left == expected, "untrack_all leaves exactly the pid's entries");
      dots = expected.size();
    }
    // §4.1: every local operation bumps the clock, a removal included.
    expect(n.st.clock() == clock_before + dots, "each local change bumps the clock per dot");
    after_change(n, before, changes);
  }

  void flush(node& n) {
    event_ = "flush";
    if (!n.st.has_delta()) return;
    auto d = n.st.take_delta();
    expect(!d.empty() && !n.st.has_delta(), "take_delta hands over the pending delta");
    expect(d.end.at(n.st.self()) == n.st.clock(), "a delta's range ends at the current clock");
    for (std::size_t to = 0; to < nodes_.size(); ++to) {
      if (&nodes_[to] == &n || (!opts_.lossless && random_.percent(15))) continue;
      in_flight_.push_back(message{to, d, std::nullopt});
      if (random_.percent(10)) in_flight_.push_back(message{to, d, std::nullopt});
    }
  }

  void transfer(node& to, node& from) {
    event_ = "transfer";
    if (&to == &from) return;
    bool pruned = random_.percent(50);
    auto s = pruned ? from.st.extract(to.st.self(), to.st.clocks()) : from.st.extract(to.st.self());
    for (const auto& [tag, e] : s.values) {
      expect(tag.replica != to.st.self(), "an extract leaves out the requester's entries");
      expect(!pruned || to.st.clocks().count(tag.replica) == 1,
             "a pruned extract holds only replicas the requester knows");
    }
    std::size_t index = &to - nodes_.data();
    if (random_.percent(50)) return deliver(message{index, std::nullopt, std::move(s)});
    in_flight_.push_back(message{index, std::nullopt, std::move(s)});
  }

  void deliver_random() {
    event_ = "deliver";
    if (in_flight_.empty()) return;
    auto i = random_.below(in_flight_.size());
    auto m = std::move(in_flight_[i]);
    in_flight_[i] = std::move(in_flight_.back());
    in_flight_.pop_back();
    deliver(m);
  }

  void deliver(const message& m) {
    event_ = m.d ? "merge delta" : "merge full state";
    auto& n = nodes_[m.to];
    state untouched = n.st;
    auto before = observe(n.st);
    auto context_before = n.st.causality().context;
    auto changes = m.d ? n.st.merge(*m.d) : n.st.merge(*m.s);

    // §7: a version leaves only if the sender observed it gone, or a newer version replaced it.
    for (const auto& [topic, change] : changes) {
      for (const auto& e : change.leaves) {
        expect(message_covers(m, e->tag) || superseded(changes, *e),
               "an entry leaves only if the remover's context covered its tag");
      }
    }
    // §8: the next own dot is beyond every own dot seen.
    expect(n.st.clock() >= highest_dot_of(m, n.st.self()), "next clock beyond own dots seen");
    check_monotone(context_before, n.st.causality().context, nullptr);

    // §4: a second merge changes nothing and reports nothing.
    auto merged = fingerprint(n.st);
    expect((m.d ? n.st.merge(*m.d) : n.st.merge(*m.s)).empty(), "a repeated merge reports nothing");
    expect(fingerprint(n.st) == merged, "a repeated merge changes nothing");

    // §15: the JSON text round-trips exactly and merges the same.
    auto text = m.d ? encode(*m.d) : encode(*m.s);
    if (m.d) {
      auto decoded = decode_delta(text);
      expect(decoded && encode(*decoded) == text, "a delta round-trips through JSON");
      untouched.merge(*decoded);
    } else {
      auto decoded = decode_snapshot(text);
      expect(decoded && encode(*decoded) == text, "a snapshot round-trips through JSON");
      untouched.merge(*decoded);
    }
    expect(fingerprint(untouched) == merged, "a decoded message merges like the original");

    after_change(n, before, changes);
  }

  void mark_up(node& y, node& x) {
    event_ = "replica up";
    if (&x == &y) return;
    const auto& replica = x.st.self();
    auto status_before = y.st.status(replica);
    auto stored = stored_of(y, replica);
    auto before = observe(y.st);
    auto changes = y.st.replica_up(replica);
    expect(changes.has_value(), "a live incarnation can come up");
    if (status_before == replica_status::down) {
      // §10: up restores exactly the stored entries, with their refs.
      std::vector<entry_ptr> joined;
      for (const auto& [topic, change] : *changes) {
        joined.insert(joined.end(), change.joins.begin(), change.joins.end());
      }
      std::sort(joined.begin(), joined.end(),
                [](const entry_ptr& a, const entry_ptr& b) { return a->tag < b->tag; });
      expect(joined == stored, "up reports the stored entries as joins, same refs");
    } else {
      expect(changes->empty(), "a first or repeated up reports nothing");
    }
    after_change(y, before, *changes);
  }

  void mark_down(node& y, node& x) {
    event_ = "replica down";
    if (&x == &y) return;
    const auto& replica = x.st.self();
    bool was_up = y.st.status(replica) == replica_status::up;
    auto stored = stored_of(y, replica);
    auto before = observe(y.st);
    auto changes = y.st.replica_down(replica);
    std::vector<entry_ptr> left;
    for (const auto& [topic, change] : changes) {
      left.insert(left.end(), change.leaves.begin(), change.leaves.end());
    }
    std::sort(left.begin(), left.end(),
              [](const entry_ptr& a, const entry_ptr& b) { return a->tag < b->tag; });
    // §10: down hides exactly that replica's entries and keeps them.
    expect(left == (was_up ? stored : std::vector<entry_ptr>{}), "down leaves its entries");
    expect(stored_of(y, replica) == stored, "down keeps the entries");
    after_change(y, before, changes);
    if (random_.percent(30)) mark_up(y, x);
  }

  void restart(node& x) {
    event_ = "restart";
    dead_.push_back(x.st.self());
    ++x.incarnation;
    x.st = state(replica_id{x.name, std::to_string(x.incarnation)});
    x.own.clear();
    x.newest.clear();
    x.stored.clear();
    x.gone.clear();
    // Its clients reconnect and get the new incarnation's presence_state; messages in flight to
    // the old incarnation reach the new one.
    for (const auto& topic : topics) resync(x, topic);
    check_clients(x);
  }

  void permdown_dead(node& y) {
    if (!dead_.empty()) permdown(y, random_.pick(dead_));
  }

  void permdown(node& y, const replica_id& dead) {
    event_ = "permdown";
    if (y.st.is_retired(dead)) return;
    auto before = observe(y.st);
    auto context_before = y.st.causality().context;
    auto changes = y.st.permdown(dead);
    expect(y.st.is_retired(dead) && !y.st.status(dead), "permdown retires the replica");
    expect(stored_of(y, dead).empty(), "permdown deletes the replica's entries");
    check_monotone(context_before, y.st.causality().context, &dead);
    after_change(y, before, changes);
  }

  // §11: a late heartbeat of a permdowned incarnation cannot bring it back.
  void stale_up(node& y) {
    event_ = "stale up";
    for (const auto& dead : dead_) {
      if (!y.st.is_retired(dead)) continue;
      auto unchanged = fingerprint(y.st);
      expect(!y.st.replica_up(dead), "a permdowned incarnation cannot come back up");
      expect(fingerprint(y.st) == unchanged, "a refused up changes nothing");
    }
  }

  // §14: a rejoining client applies a fresh presence_state with syncState.
  void rejoin(node& n, const std::string& topic) {
    event_ = "client rejoin";
    resync(n, topic);
    check_clients(n);
  }

  void resync(node& n, const std::string& topic) {
    auto fresh = over_the_wire(presence_state_payload(n.st.list(topic)));
    n.clients[topic] = sync_state(std::move(n.clients[topic]), fresh);
  }

  std::vector<entry_ptr> stored_of(const node& n, const replica_id& replica) const {
    std::vector<entry_ptr> out;
    for (const auto& [tag, e] : n.st.extract(observer).values) {
      if (tag.replica == replica) out.push_back(e);
    }
    return out;
  }

  // Checks common to every change of a node's state, then feeds its clients.
  void after_change(node& n, const visible_set& before, const diff& changes) {
    auto after = observe(n.st);
    check_diff(before, changes, after);

    // §7: merges never remove own entries, nor add own-tagged ones the node did not create.
    std::map<own_key, entry_ptr> own;
    for (const auto& [tag, e] : after) {
      if (tag.replica == n.st.self()) own.emplace(own_key{e->pid, e->topic, e->key}, e);
    }
    expect(own == n.own, "own entries are exactly those the local operations made");

    // §12, §11, §8: everything stored is of a known replica and is a version some owner made,
    // unchanged (phx_ref_prev included); a removed or superseded version never comes back.
    std::set<dot> stored;
    for (const auto& [tag, e] : n.st.extract(observer).values) {
      stored.insert(tag);
      expect(n.gone.count(tag) == 0, "a removed version never comes back");
      expect(n.st.status(tag.replica).has_value(), "no entry of an unknown or retired replica");
      auto made = created_.find(tag);
      expect(made != created_.end() && same_entry(*made->second, *e),
             "every stored entry is a version its owner made");
      auto& newest = n.newest[{e->topic, e->key, tag.replica, e->pid}];
      expect(tag.clock >= newest, "an older version never comes back after a newer one");
      newest = tag.clock;
    }
    std::set_difference(n.stored.begin(), n.stored.end(), stored.begin(), stored.end(),
                        std::inserter(n.gone, n.gone.end()));
    n.stored = std::move(stored);

    for (const auto& [topic, change] : changes) {
      auto payload = over_the_wire(presence_diff_payload(change));
      n.clients[topic] = sync_diff(std::move(n.clients[topic]), payload);
    }
    check_clients(n);
  }

  // §14: each client's state is the server's list grouped by key.
  void check_clients(const node& n) {
    for (const auto& [topic, client] : n.clients) {
      for (const auto& [key, presence] : client) {
        expect(refs_in(presence).size() == presence.at("metas").as_array().size(),
               "a client holds each phx_ref once");
      }
      expect(sorted_by_key(client) == sorted_by_key(presence_state_payload(n.st.list(topic))),
             "the phoenix.js client state equals the server's list");
    }
  }

  random_source& random_;
  options opts_;
  std::vector<node> nodes_;
  std::vector<message> in_flight_;
  std::vector<replica_id> dead_;
  std::map<dot, entry_ptr> created_;
  std::set<std::string> refs_;
  std::int64_t metas_ = 0;
  const char* event_ = "start";
};

// Runs `runs` random histories of `steps`-ish events and hands each cluster to `check`.
template <typename Check>
void for_random_clusters(std::size_t runs, options opts, std::size_t min_nodes, Check check) {
  for (std::uint64_t run = 0; run < runs; ++run) {
    auto seed = run_seed(run, 0x5eed0001ULL);
    INFO("reproduce with BERYL_PROPERTY_SEED=", seed);
    random_source random(seed);
    cluster c(random, min_nodes + random.below(5 - min_nodes), opts);
    INFO("event: ", c.event());
    auto steps = 40 + random.below(120);
    for (std::size_t i = 0; i < steps; ++i) c.step();
    check(c, random);
  }
}

}  // namespace

TEST_CASE(
    "presence property: lossy, reordered, duplicated delivery with partitions and restarts "
    "converges") {
  std::size_t histories = 0;
  for_random_clusters(3000, options{}, 2, [&](cluster& c, random_source&) {
    c.heal_and_check_convergence();
    ++histories;
  });
  CHECK(histories == 3000);
}

TEST_CASE("presence property: deltas alone converge when none is lost, whatever the order") {
  std::size_t histories = 0;
  options lossless;
  lossless.lossless = true;
  for_random_clusters(1500, lossless, 2, [&](cluster& c, random_source&) {
    c.heal_and_check_convergence();
    ++histories;
  });
  CHECK(histories == 1500);
}

TEST_CASE("presence property: full-state merges commute and associate") {
  options stable;
  stable.lifecycle = false;
  stable.all_up = true;
  std::size_t checked = 0;
  for_random_clusters(1000, stable, 3, [&](cluster& c, random_source& random) {
    std::vector<std::size_t> order(c.size());  // three distinct nodes, at random
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = 0; i < 3; ++i) std::swap(order[i], order[i + random.below(c.size() - i)]);
    const auto& target = c.at(order[0]).st;
    const auto& one = c.at(order[1]).st;
    const auto& two = c.at(order[2]).st;
    auto a = one.extract(target.self());
    auto b = two.extract(target.self());

    state ab = target;
    ab.merge(a);
    ab.merge(b);
    state ba = target;
    ba.merge(b);
    ba.merge(a);
    expect(fingerprint(ab) == fingerprint(ba), "merge(merge(s, a), b) == merge(merge(s, b), a)");
    expect(observe(ab) == observe(ba), "commuted merges show the same entries");

    state one_then_two = one;
    one_then_two.merge(two.extract(one.self()));
    state grouped = target;
    grouped.merge(one_then_two.extract(target.self()));
    expect(fingerprint(grouped) == fingerprint(ab),
           "merge(s, merge(a, b)) == merge(merge(s, a), b)");
    ++checked;
  });
  CHECK(checked == 1000);
}

TEST_CASE(
    "presence property: a contiguous delta chain, its merged generation and the full state agree") {
  const replica_id a_id{"a@host", "1"};
  const replica_id b_id{"b@host", "1"};
  for (std::uint64_t run = 0; run < 2000; ++run) {
    auto seed = run_seed(run, 0x5eed0001ULL);
    INFO("reproduce with BERYL_PROPERTY_SEED=", seed);
    random_source random(seed);
    state a(a_id);
    state b(b_id);
    a.replica_up(b_id);
    b.replica_up(a_id);
    std::vector<delta> chain;  // every delta of A, in order
    auto steps = 20 + random.below(60);
    std::int64_t counter = 0;
    for (std::size_t i = 0; i < steps; ++i) {
      auto& s = random.percent(60) ? a : b;
      const auto& pid = random.pick(pids);
      const auto& topic = random.pick(topics);
      const auto& key = random.pick(keys);
      switch (random.below(5)) {
        case 0:
          s.track(pid, topic, key, {{"n", ++counter}});
          break;
        case 1:
          s.update(pid, topic, key, {{"n", ++counter}});
          break;
        case 2:
          s.untrack(pid, topic, key);
          break;
        case 3:
          if (a.has_delta()) chain.push_back(a.take_delta());
          break;
        default:  // A learns B's removals and relays them in its own deltas
          if (b.has_delta()) a.merge(b.take_delta());
          break;
      }
    }
    if (a.has_delta()) chain.push_back(a.take_delta());
    if (chain.empty()) continue;

    // §3: merge_deltas commutes and associates on contiguous deltas.
    for (std::size_t i = 0; i + 2 < chain.size(); ++i) {
      auto first_two = merge_deltas(chain[i], chain[i + 1]);
      auto last_two = merge_deltas(chain[i + 1], chain[i + 2]);
      expect(first_two && last_two, "consecutive deltas are contiguous");
      auto left = merge_deltas(*first_two, chain[i + 2]);
      auto right = merge_deltas(chain[i], *last_two);
      expect(left && right && encode(*left) == encode(*right), "merge_deltas associates");
      auto swapped = merge_deltas(chain[i + 1], chain[i]);
      expect(swapped && encode(*swapped) == encode(*first_two), "merge_deltas commutes");
      const auto& middle = chain[i + 1];
      bool gap = middle.end.at(a_id) > middle.start.at(a_id);
      expect(merge_deltas(chain[i], chain[i + 2]).has_value() != gap,
             "deltas with a gap between them do not merge");
    }

    // §5: from any point B reached, the rest of the chain, the generation folding it, and A's
    // full state all lead to the same state.
    auto k = random.below(chain.size());
    for (std::size_t i = 0; i < k; ++i) b.merge(chain[i]);
    state by_chain = b;
    for (std::size_t i = k; i < chain.size(); ++i) by_chain.merge(chain[i]);
    delta generation = chain[k];
    for (std::size_t i = k + 1; i < chain.size(); ++i) {
      auto folded = merge_deltas(generation, chain[i]);
      expect(folded.has_value(), "a chain folds into one generation");
      generation = std::move(*folded);
    }
    state by_generation = b;
    by_generation.merge(generation);
    state by_full_state = b;
    by_full_state.merge(a.extract(b_id));
    expect(fingerprint(by_chain) == fingerprint(by_full_state),
           "a delta chain merges like the full state");
    expect(fingerprint(by_generation) == fingerprint(by_full_state),
           "a merged generation merges like the full state");
  }
}

TEST_CASE("presence property: compaction is idempotent and never changes which dots are observed") {
  for (std::uint64_t run = 0; run < 5000; ++run) {
    auto seed = run_seed(run, 0x5eed0001ULL);
    INFO("reproduce with BERYL_PROPERTY_SEED=", seed);
    random_source random(seed);
    const std::vector<replica_id> replicas{{"a", "1"}, {"b", "1"}, {"c", "1"}};
    causal_context c;
    for (const auto& r : replicas) {
      if (random.percent(70)) c.context[r] = random.below(6);
      for (auto n = random.below(8); n > 0; --n) c.clouds[r].insert(1 + random.below(16));
    }
    auto compacted = c;
    compacted.compact();
    for (const auto& r : replicas) {
      for (std::uint64_t clock = 1; clock <= 20; ++clock) {
        expect(compacted.contains({r, clock}) == c.contains({r, clock}),
               "compaction keeps membership");
      }
      auto prefix = compacted.context.count(r) ? compacted.context.at(r) : 0;
      auto cloud = compacted.clouds.find(r);
      expect(cloud == compacted.clouds.end() ||
                 (!cloud->second.empty() && *cloud->second.begin() > prefix + 1),
             "compaction leaves only dots beyond a gap");
    }
    auto twice = compacted;
    twice.compact();
    expect(twice == compacted, "compacting twice equals compacting once");
  }
}
