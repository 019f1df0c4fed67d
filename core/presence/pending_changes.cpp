#include "core/presence/pending_changes.hpp"

#include <algorithm>
#include <vector>

namespace beryl::presence {

void pending_changes::add(const diff& changes) {
  for (const auto& [topic, d] : changes) {
    auto& pending = topics_[topic];
    for (const auto& e : d.joins) record(pending, e, true);
    for (const auto& e : d.leaves) record(pending, e, false);
    if (pending.empty()) topics_.erase(topic);
  }
}

void pending_changes::record(topic_changes& pending, const entry_ptr& version, bool joined) {
  auto [it, added] = pending.try_emplace(version->phx_ref, change{next_order_++, version, joined});
  if (added) {
    ++versions_;
  } else if (it->second.joined != joined) {
    // The opposite change of the same version: clients would end where they began.
    pending.erase(it);
    --versions_;
  }
  // The same change twice (a replica's entries re-reported) is kept once.
}

diff pending_changes::take_all() {
  diff out;
  for (auto& [topic, pending] : topics_) {
    std::vector<const change*> ordered;
    ordered.reserve(pending.size());
    for (const auto& [ref, c] : pending) ordered.push_back(&c);
    std::sort(ordered.begin(), ordered.end(),
              [](const change* a, const change* b) { return a->order < b->order; });
    auto& d = out[topic];
    for (const auto* c : ordered) (c->joined ? d.joins : d.leaves).push_back(c->version);
  }
  topics_.clear();
  versions_ = 0;
  return out;
}

}  // namespace beryl::presence
