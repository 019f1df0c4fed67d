#pragma once
// Shard actors that split the topics between them (pubsub, presence): a copyable handle in which
// a topic always maps to the same shard.
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace beryl {

template <class Shard>
class topic_shards {
 public:
  topic_shards() = default;
  explicit topic_shards(std::vector<Shard> shards)
      : shards_(std::make_shared<const std::vector<Shard>>(std::move(shards))) {}

  bool valid() const { return shards_ && !shards_->empty(); }
  const Shard& shard_for(std::string_view topic) const {
    return (*shards_)[std::hash<std::string_view>{}(topic) % shards_->size()];
  }
  const std::vector<Shard>& shards() const { return *shards_; }

 private:
  std::shared_ptr<const std::vector<Shard>> shards_;
};

}  // namespace beryl
