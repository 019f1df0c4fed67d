#include "core/presence/state.hpp"

#include "core/base64.hpp"

#include <algorithm>
#include <string_view>

namespace beryl::presence {
namespace {

// ---- phx_ref ------------------------------------------------------------------------------

void append_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t hash) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// SplitMix64's finalizer: spreads every input bit over the whole word.
std::uint64_t avalanche(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// ---- causal helpers -----------------------------------------------------------------------

bool covers(const clock_map& context, const cloud_map& clouds, const dot& d) {
  auto prefix = context.find(d.replica);
  if (prefix != context.end() && prefix->second >= d.clock) return true;
  auto cloud = clouds.find(d.replica);
  return cloud != clouds.end() && cloud->second.count(d.clock) > 0;
}

void add_dot(cloud_map& clouds, const dot& d) {
  clouds[d.replica].insert(d.clock);
}

// A dot the other delta saw and no longer holds is one it removed.
bool removed_in(const delta& d, const dot& tag) {
  return covers({}, d.clouds, tag) && d.values.count(tag) == 0;
}

void append(diff& into, diff&& more) {
  for (auto& [topic, changes] : more) {
    auto& target = into[topic];
    for (auto& e : changes.joins) target.joins.push_back(std::move(e));
    for (auto& e : changes.leaves) target.leaves.push_back(std::move(e));
  }
}

// Both maps keep every replica of either; `pick` chooses between two clocks of a shared one.
template <typename Pick>
clock_map combine(const clock_map& a, const clock_map& b, Pick pick) {
  clock_map out = a;
  for (const auto& [replica, clock] : b) {
    auto [it, fresh] = out.try_emplace(replica, clock);
    if (!fresh) it->second = pick(it->second, clock);
  }
  return out;
}

}  // namespace

// ---- causal_context -----------------------------------------------------------------------

bool causal_context::contains(const dot& d) const {
  return covers(context, clouds, d);
}

void causal_context::add(const dot& d) {
  if (!contains(d)) add_dot(clouds, d);
}

void causal_context::compact() {
  for (auto it = clouds.begin(); it != clouds.end();) {
    auto& dots = it->second;
    auto prefix_it = context.find(it->first);
    std::uint64_t prefix = prefix_it == context.end() ? 0 : prefix_it->second;
    // Dots are sorted: consume those covered by, or extending, the prefix.
    auto d = dots.begin();
    while (d != dots.end() && *d <= prefix + 1) {
      prefix = std::max(prefix, *d);
      d = dots.erase(d);
    }
    if (prefix_it != context.end()) {
      prefix_it->second = prefix;
    } else if (prefix > 0) {
      context.emplace(it->first, prefix);
    }
    it = dots.empty() ? clouds.erase(it) : std::next(it);
  }
}

// ---- entries, deltas ----------------------------------------------------------------------

std::string phx_ref_of(const dot& tag) {
  // Length-prefixed fields: distinct dots give distinct byte strings.
  std::string bytes;
  append_u64(bytes, tag.replica.node.size());
  bytes += tag.replica.node;
  append_u64(bytes, tag.replica.vsn.size());
  bytes += tag.replica.vsn;
  append_u64(bytes, tag.clock);
  auto high = avalanche(fnv1a(bytes, 0xcbf29ce484222325ULL));
  auto low = avalanche(fnv1a(bytes, 0x6c62272e07bb0142ULL) ^ high);
  unsigned char raw[12];
  for (int i = 0; i < 8; ++i) raw[i] = static_cast<unsigned char>(high >> (8 * i));
  for (int i = 0; i < 4; ++i) raw[8 + i] = static_cast<unsigned char>(low >> (8 * i));
  return base64::encode_url(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

entry::entry(std::string topic, std::string key, std::string pid, boost::json::object meta, dot tag,
             std::optional<std::uint64_t> previous_clock)
    : topic(std::move(topic)),
      key(std::move(key)),
      pid(std::move(pid)),
      meta(std::move(meta)),
      tag(std::move(tag)),
      previous_clock(previous_clock),
      phx_ref(phx_ref_of(this->tag)) {
  if (previous_clock) phx_ref_prev = phx_ref_of(dot{this->tag.replica, *previous_clock});
}

std::size_t delta::size() const {
  std::size_t n = values.size();
  for (const auto& [replica, dots] : clouds) n += dots.size();
  return n;
}

std::optional<delta> merge_deltas(const delta& a, const delta& b) {
  // Contiguous: on every replica both ranges cover, the ranges overlap or touch.
  for (const auto& [replica, a_start] : a.start) {
    auto b_start = b.start.find(replica);
    auto a_end = a.end.find(replica);
    auto b_end = b.end.find(replica);
    if (b_start == b.start.end() || a_end == a.end.end() || b_end == b.end.end()) continue;
    if (a_start > b_end->second || b_start->second > a_end->second) return std::nullopt;
  }
  delta out;
  out.start = combine(a.start, b.start, [](auto x, auto y) { return std::min(x, y); });
  out.end = combine(a.end, b.end, [](auto x, auto y) { return std::max(x, y); });
  out.clouds = a.clouds;
  for (const auto& [replica, dots] : b.clouds) out.clouds[replica].insert(dots.begin(), dots.end());
  // An add survives unless the other delta removed it.
  for (const auto& [tag, e] : a.values) {
    if (!removed_in(b, tag)) out.values.emplace(tag, e);
  }
  for (const auto& [tag, e] : b.values) {
    if (!removed_in(a, tag)) out.values.emplace(tag, e);
  }
  return out;
}

// ---- state: local operations --------------------------------------------------------------

state::state(replica_id self) : self_(std::move(self)) {
  known_.context.emplace(self_, 0);
  replicas_.emplace(self_, replica_status::up);
  reset_delta();
}

std::uint64_t state::clock() const {
  std::uint64_t last = known_.context.at(self_);
  // Own dots beyond the prefix can only come back from a peer; never reuse them.
  auto cloud = known_.clouds.find(self_);
  if (cloud != known_.clouds.end()) last = std::max(last, *cloud->second.rbegin());
  return last;
}

dot state::bump() {
  dot next{self_, clock() + 1};
  // Every own dot up to `next` is ours, hence observed: the prefix covers them all.
  known_.context[self_] = next.clock;
  known_.clouds.erase(self_);
  add_dot(delta_.clouds, next);
  delta_.end[self_] = next.clock;
  return next;
}

op_result state::track(const std::string& pid, const std::string& topic, const std::string& key,
                       boost::json::object meta) {
  if (get_local(pid, topic, key)) return {op_status::already_tracked, nullptr, {}};
  auto e = std::make_shared<const entry>(topic, key, pid, std::move(meta), bump(), std::nullopt);
  insert_entry(e);
  delta_.values.emplace(e->tag, e);
  return {op_status::ok, e, diff{{topic, topic_diff{{e}, {}}}}};
}

op_result state::update(const std::string& pid, const std::string& topic, const std::string& key,
                        boost::json::object meta) {
  auto old = get_local(pid, topic, key);
  if (!old) return {op_status::nopresence, nullptr, {}};
  remove_local(old);
  auto e = std::make_shared<const entry>(topic, key, pid, std::move(meta), bump(), old->tag.clock);
  insert_entry(e);
  delta_.values.emplace(e->tag, e);
  return {op_status::ok, e, diff{{topic, topic_diff{{e}, {old}}}}};
}

diff state::untrack(const std::string& pid, const std::string& topic, const std::string& key) {
  auto old = get_local(pid, topic, key);
  if (!old) return {};
  remove_local(old);
  return diff{{topic, topic_diff{{}, {old}}}};
}

diff state::untrack_all(const std::string& pid) {
  auto tracked = own_by_pid_.find(pid);
  if (tracked == own_by_pid_.end()) return {};
  auto topic_keys = tracked->second;  // untrack() edits the index
  diff out;
  for (const auto& [topic, key] : topic_keys) append(out, untrack(pid, topic, key));
  return out;
}

// Leave (§3.2): delete, ship the old dot as a removal marker, then bump.
void state::remove_local(const entry_ptr& e) {
  erase_entry(e);
  mark_removed_in_delta(e->tag);
  bump();
}

void state::mark_removed_in_delta(const dot& tag) {
  delta_.values.erase(tag);
  add_dot(delta_.clouds, tag);
}

// ---- state: indexes and reads -------------------------------------------------------------

void state::insert_entry(const entry_ptr& e) {
  by_tag_.emplace(e->tag, e);
  topics_[e->topic].insert_or_assign(slot{e->key, e->tag.replica, e->pid}, e);
  if (e->tag.replica == self_) own_by_pid_[e->pid].emplace(e->topic, e->key);
}

void state::erase_entry(const entry_ptr& e) {
  by_tag_.erase(e->tag);
  auto topic = topics_.find(e->topic);
  topic->second.erase(slot{e->key, e->tag.replica, e->pid});
  if (topic->second.empty()) topics_.erase(topic);
  if (e->tag.replica != self_) return;
  auto pid = own_by_pid_.find(e->pid);
  pid->second.erase({e->topic, e->key});
  if (pid->second.empty()) own_by_pid_.erase(pid);
}

entry_ptr state::find_slot(const std::string& topic, const slot& where) const {
  auto entries = topics_.find(topic);
  if (entries == topics_.end()) return nullptr;
  auto found = entries->second.find(where);
  return found == entries->second.end() ? nullptr : found->second;
}

entry_ptr state::get_local(const std::string& pid, const std::string& topic,
                           const std::string& key) const {
  return find_slot(topic, slot{key, self_, pid});
}

bool state::visible(const replica_id& replica) const {
  auto found = replicas_.find(replica);
  return found != replicas_.end() && found->second == replica_status::up;
}

std::vector<entry_ptr> state::list(const std::string& topic) const {
  std::vector<entry_ptr> out;
  auto entries = topics_.find(topic);
  if (entries == topics_.end()) return out;
  out.reserve(entries->second.size());
  for (const auto& [where, e] : entries->second) {
    if (visible(where.owner)) out.push_back(e);
  }
  return out;
}

std::size_t state::entries_in(const std::string& topic) const {
  auto entries = topics_.find(topic);
  return entries == topics_.end() ? 0 : entries->second.size();
}

std::vector<entry_ptr> state::get_by_key(const std::string& topic, const std::string& key) const {
  std::vector<entry_ptr> out;
  auto entries = topics_.find(topic);
  if (entries == topics_.end()) return out;
  // Slots sort by key first, and the empty owner and pid sort before any other.
  for (auto it = entries->second.lower_bound(slot{key, {}, {}});
       it != entries->second.end() && it->first.key == key; ++it) {
    if (visible(it->first.owner)) out.push_back(it->second);
  }
  return out;
}

std::vector<entry_ptr> state::entries_of(const replica_id& replica) const {
  std::vector<entry_ptr> out;
  for (auto it = by_tag_.lower_bound(dot{replica, 0});
       it != by_tag_.end() && it->first.replica == replica; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::optional<replica_status> state::status(const replica_id& replica) const {
  auto found = replicas_.find(replica);
  if (found == replicas_.end()) return std::nullopt;
  return found->second;
}

// ---- state: replication -------------------------------------------------------------------

void state::reset_delta() {
  delta_ = delta{};
  delta_.start[self_] = clock();
  delta_.end[self_] = clock();
}

delta state::take_delta() {
  delta out = std::move(delta_);
  reset_delta();
  return out;
}

template <typename Keep>
snapshot state::extract_if(const replica_id& requester, Keep keep) const {
  snapshot out;
  for (const auto& [replica, clock] : known_.context) {
    if (keep(replica)) out.causality.context.emplace(replica, clock);
  }
  for (const auto& [replica, dots] : known_.clouds) {
    if (keep(replica)) out.causality.clouds.emplace(replica, dots);
  }
  for (const auto& [tag, e] : by_tag_) {
    if (tag.replica != requester && keep(tag.replica))
      out.values.emplace_hint(out.values.end(), tag, e);
  }
  return out;
}

snapshot state::extract(const replica_id& requester) const {
  return extract_if(requester, [](const replica_id&) { return true; });
}

snapshot state::extract(const replica_id& requester, const clock_map& requester_clocks) const {
  return extract_if(requester,
                    [&](const replica_id& replica) { return requester_clocks.count(replica) > 0; });
}

clock_map state::clocks() const {
  clock_map out;
  for (const auto& [replica, clock] : known_.context) {
    if (visible(replica)) out.emplace(replica, clock);
  }
  return out;
}

diff state::merge(const snapshot& remote) {
  return merge_remote(remote.values, remote.causality.context, remote.causality.clouds);
}

// A delta has no context: only its clouds say what it observed (§3.3).
diff state::merge(const delta& remote) {
  return merge_remote(remote.values, {}, remote.clouds);
}

diff state::merge_remote(const entry_map& values, const clock_map& context,
                         const cloud_map& clouds) {
  // 1. Observed removes: entries whose dot the remote saw but no longer holds. Own entries are
  // skipped: this replica alone decides about them.
  entry_map removed;
  auto observe = [&](const entry_ptr& e) {
    if (values.count(e->tag) == 0) removed.emplace(e->tag, e);
  };
  for (const auto& [replica, prefix] : context) {
    if (replica == self_) continue;
    for (auto it = by_tag_.lower_bound(dot{replica, 1});
         it != by_tag_.end() && it->first.replica == replica && it->first.clock <= prefix; ++it) {
      observe(it->second);
    }
  }
  for (const auto& [replica, dots] : clouds) {
    if (replica == self_) continue;
    auto prefix = context.find(replica);
    for (auto clock : dots) {
      if (prefix != context.end() && clock <= prefix->second) continue;  // seen above
      auto found = by_tag_.find(dot{replica, clock});
      if (found != by_tag_.end()) observe(found->second);
    }
  }

  // 2. Joins: unseen dots of known replicas, never our own. A slot holds one version at a time
  // and its owner mints a new version only after removing the old one, so the newest version
  // wins and older ones are known dead even when their removal marker was lost.
  std::map<slot_in_topic, entry_ptr> incoming;
  std::vector<dot> dead;
  for (const auto& [tag, e] : values) {
    if (tag.replica == self_ || !known(tag.replica) || known_.contains(tag)) continue;
    auto [it, fresh] = incoming.try_emplace({e->topic, slot{e->key, tag.replica, e->pid}}, e);
    if (fresh) continue;
    if (it->second->tag.clock < tag.clock) {
      dead.push_back(it->second->tag);
      it->second = e;
    } else {
      dead.push_back(tag);
    }
  }
  std::vector<entry_ptr> added;
  for (const auto& [where, e] : incoming) {
    auto held = find_slot(where.first, where.second);
    auto last_removed = removed_versions_.find(where);
    if ((held && held->tag.clock > e->tag.clock) ||
        (last_removed != removed_versions_.end() && last_removed->second > e->tag.clock)) {
      dead.push_back(e->tag);
      continue;
    }
    if (held) removed.emplace(held->tag, held);
    added.push_back(e);
  }

  // 3. Deletes before inserts, so an update (old dot out, new dot in) is one atomic change.
  diff out;
  for (const auto& [tag, e] : removed) {
    erase_entry(e);
    auto& last_removed = removed_versions_[{e->topic, slot{e->key, tag.replica, e->pid}}];
    last_removed = std::max(last_removed, tag.clock);
    mark_removed_in_delta(tag);  // the removal travels on (§3.3 step 2)
    if (visible(tag.replica)) out[e->topic].leaves.push_back(e);
  }
  for (const auto& e : added) {
    insert_entry(e);
    if (visible(e->tag.replica)) out[e->topic].joins.push_back(e);
  }

  // 4-5. Causal context: element-wise max and clouds union, both restricted to known replicas.
  for (const auto& [replica, prefix] : context) {
    if (!known(replica)) continue;
    auto& mine = known_.context[replica];
    mine = std::max(mine, prefix);
  }
  for (const auto& [replica, dots] : clouds) {
    if (known(replica)) known_.clouds[replica].insert(dots.begin(), dots.end());
  }
  // Whatever was imported or found dead is observed, even if the sender forgot to say so.
  for (const auto& e : added) known_.add(e->tag);
  for (const auto& tag : dead) known_.add(tag);
  known_.compact();
  forget_settled_removals();
  return out;
}

// Once the prefix covers a removed version, every older dot is covered too.
void state::forget_settled_removals() {
  for (auto it = removed_versions_.begin(); it != removed_versions_.end();) {
    auto prefix = known_.context.find(it->first.second.owner);
    bool settled = prefix == known_.context.end() || prefix->second >= it->second;
    it = settled ? removed_versions_.erase(it) : std::next(it);
  }
}

// ---- state: replica lifecycle -------------------------------------------------------------

std::optional<diff> state::replica_up(const replica_id& replica) {
  if (replica == self_ || is_retired(replica)) return std::nullopt;
  auto [it, fresh] = replicas_.try_emplace(replica, replica_status::up);
  known_.context.try_emplace(replica, 0);
  if (fresh || it->second == replica_status::up) return diff{};
  it->second = replica_status::up;
  diff out;
  for (const auto& e : entries_of(replica)) out[e->topic].joins.push_back(e);
  return out;
}

diff state::replica_down(const replica_id& replica) {
  if (replica == self_ || !visible(replica)) return {};
  replicas_[replica] = replica_status::down;
  diff out;
  for (const auto& e : entries_of(replica)) out[e->topic].leaves.push_back(e);
  return out;
}

diff state::permdown(const replica_id& replica) {
  if (replica == self_) return {};
  diff out = replica_down(replica);
  for (const auto& e : entries_of(replica)) erase_entry(e);
  known_.context.erase(replica);
  known_.clouds.erase(replica);
  replicas_.erase(replica);
  retired_.insert(replica);
  forget_settled_removals();
  return out;
}

}  // namespace beryl::presence
