// An app service under the supervision tree: one `counter` actor keeps a count per topic that
// outlives every channel. A counter:* channel joins with its topic's count, asked of the service
// (a join answered later), and "inc" adds one and broadcasts the new count to the topic.
#include "app/runtime/server.hpp"
#include "supervision/registry.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

using get_atom = caf::atom_constant<caf::atom("get")>;
using add_atom = caf::atom_constant<caf::atom("add")>;

// (topic) -> its count; (topic, n) -> the count after adding n.
using counter_actor =
    caf::typed_actor<caf::replies_to<get_atom, std::string>::with<std::int64_t>,
                     caf::replies_to<add_atom, std::string, std::int64_t>::with<std::int64_t>>;

// Clients choose the topics: the counts a client can make the service keep are bounded.
constexpr std::size_t max_counters = 100000;

struct counter_state {
  std::unordered_map<std::string, std::int64_t> counts;  // topics never counted are 0, not kept
  static inline const char* name = "counter";
};

counter_actor::behavior_type counter(counter_actor::stateful_pointer<counter_state> self) {
  return {
      [self](get_atom, const std::string& topic) -> std::int64_t {
        auto it = self->state.counts.find(topic);
        return it == self->state.counts.end() ? 0 : it->second;
      },
      [self](add_atom, const std::string& topic, std::int64_t n) -> caf::result<std::int64_t> {
        auto& counts = self->state.counts;
        if (counts.size() >= max_counters && !counts.count(topic))
          return caf::make_error(caf::sec::runtime_error, "too many counters");
        return counts[topic] += n;
      },
  };
}

class counter_channel : public beryl::channel {
 public:
  using channel::channel;

 protected:
  beryl::reply join(const beryl::payload&) override {
    auto service = counter_service();
    if (!service) return beryl::reply::error({{"reason", "counter unavailable"}});
    request(service, ask_timeout, get_atom::value, topic())
        .then(
            [this](std::int64_t count) {
              complete_join(beryl::reply::ok({{"count", count}}));
            },
            [this](caf::error&) {
              complete_join(beryl::reply::error({{"reason", "counter unavailable"}}));
            });
    return beryl::reply::later();
  }

  std::optional<beryl::reply> handle_in(const std::string& event, const beryl::payload&) override {
    if (event != "inc") return beryl::noreply;
    auto service = counter_service();
    if (!service) return beryl::reply::error({{"reason", "counter unavailable"}});
    request(service, ask_timeout, add_atom::value, topic(), std::int64_t{1})
        .then(
            [this](std::int64_t count) {
              broadcast("count", {{"count", count}});
            },
            [](caf::error&) {});  // over the cap, or the service restarting: nothing counted
    return beryl::reply::ok();
  }

 private:
  static constexpr std::chrono::seconds ask_timeout{5};

  // The service's current incarnation: the supervisor registers each one under its name.
  counter_actor counter_service() {
    return caf::actor_cast<counter_actor>(beryl::supervision::lookup(system(), "counter"));
  }
};

int main(int argc, char** argv) {
  auto config = beryl::app::config_from_command_line(argc, argv);
  auto routes = std::make_shared<beryl::router>();
  routes->add<counter_channel>("counter:*");
  auto service = beryl::supervision::worker_spec("counter", [](caf::local_actor* parent) {
    return caf::actor_cast<caf::actor>(parent->spawn(counter));
  });
  service.registered = true;
  return beryl::app::serve(config, routes, {}, nullptr, {service});
}
