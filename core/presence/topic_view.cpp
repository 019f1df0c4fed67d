#include "core/presence/topic_view.hpp"

#include "core/presence/wire.hpp"

#include <algorithm>

namespace beryl::presence {

void topic_view::apply(const topic_diff& changes) {
  if (changes.joins.empty() && changes.leaves.empty()) return;
  text_.reset();
  for (const auto& e : changes.joins) by_key_[e->key].push_back(e);
  for (const auto& e : changes.leaves) {
    auto it = by_key_.find(e->key);
    if (it == by_key_.end()) continue;
    auto& metas = it->second;
    metas.erase(std::remove_if(metas.begin(), metas.end(),
                               [&](const entry_ptr& m) { return m->phx_ref == e->phx_ref; }),
                metas.end());
    if (metas.empty()) by_key_.erase(it);
  }
}

std::shared_ptr<const std::string> topic_view::state_text() {
  if (text_) return text_;
  std::string out = "{";
  for (const auto& [key, metas] : by_key_) {
    if (out.size() > 1) out += ',';
    append_presence_text(out, key, metas);
  }
  out += '}';
  text_ = std::make_shared<const std::string>(std::move(out));
  return text_;
}

}  // namespace beryl::presence
