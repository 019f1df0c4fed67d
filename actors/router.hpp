#pragma once
// Topic patterns -> channel classes; the first registered match wins.
#include "actors/channel.hpp"
#include "core/topic_pattern.hpp"

#include <caf/local_actor.hpp>

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace beryl {

// Spawns a channel actor from `parent` (a socket actor or a supervisor).
using channel_factory = std::function<channel_actor(caf::local_actor* parent, channel_context ctx)>;

class router {
 public:
  struct match {
    const channel_factory* factory;
    const topic_pattern* pattern;  // what channel::topic_params() reads the captures with
  };

  // Registers `Channel` (a subclass of beryl::channel) for `pattern`; `args` are passed to its
  // constructor after the channel_context.
  template <class Channel, class... Args>
  router& add(std::string_view pattern, Args... args) {
    static_assert(std::is_base_of_v<channel, Channel>, "channels derive from beryl::channel");
    routes_.push_back(
        {topic_pattern(pattern), [args...](caf::local_actor* parent, channel_context ctx) {
           // beryl::channel implements channel_actor; user handlers only add to it.
           return caf::actor_cast<channel_actor>(parent->spawn<Channel>(std::move(ctx), args...));
         }});
    return *this;
  }

  // Appends `other`'s routes, after this router's own (which still win).
  router& add_routes(const router& other) {
    routes_.insert(routes_.end(), other.routes_.begin(), other.routes_.end());
    return *this;
  }

  std::optional<match> route(std::string_view topic) const;

 private:
  struct entry {
    topic_pattern pattern;
    channel_factory factory;
  };
  std::vector<entry> routes_;
};

}  // namespace beryl
