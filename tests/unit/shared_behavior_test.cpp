// actors/shared_behavior.hpp: many actors of one kind share one behavior that captures nothing;
// every handler call must still reach its own actor, on whichever thread runs it, including the
// answers of requests it makes.
#include "actors/shared_behavior.hpp"
#include "actor_test_support.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

#include <atomic>
#include <string>
#include <vector>

using namespace beryl;

namespace {

using name_atom = caf::atom_constant<caf::atom("name")>;
using relay_atom = caf::atom_constant<caf::atom("relay")>;

// Adds what it is sent; says its name; relays a number to a peer and answers with the sum of the
// peer's answer and its own total.
class tally : public with_shared_behavior<tally, caf::event_based_actor> {
 public:
  tally(caf::actor_config& cfg, std::string name)
      : with_shared_behavior(cfg), name_(std::move(name)) {}

  caf::behavior make_behavior() override {
    ++behaviors_made;
    return handlers();
  }

  // Counted from both scheduler threads.
  static inline std::atomic<int> behaviors_made = 0;
  static inline std::atomic<int> handler_sets_built = 0;

 private:
  static const caf::behavior& handlers() {
    static const caf::behavior shared = [] {
      ++handler_sets_built;
      return caf::behavior{
          [](int n) {
            running().total_ += n;
            return running().total_;
          },
          [](name_atom) { return running().name_; },
          [](relay_atom, const caf::actor& peer, int n) -> caf::result<int> {
            auto& self = running();
            auto promise = self.make_response_promise<int>();
            self.request(peer, caf::infinite, n).then([&self, promise](int peer_total) mutable {
              promise.deliver(peer_total + self.total_);
            });
            return promise;
          },
      };
    }();
    return shared;
  }

  std::string name_;
  int total_ = 0;
};

}  // namespace

TEST_CASE("actors sharing one behavior each handle their own messages") {
  testing::test_actor_system system;
  auto& sys = *system.sys;
  std::vector<caf::actor> actors;
  for (int i = 0; i < 40; ++i) actors.push_back(sys.spawn<tally>("tally-" + std::to_string(i)));
  caf::scoped_actor client{sys};
  // Interleaved, so that both scheduler threads run many of them in turn.
  for (int round = 1; round <= 5; ++round)
    for (std::size_t i = 0; i < actors.size(); ++i) client->send(actors[i], static_cast<int>(i));

  for (std::size_t i = 0; i < actors.size(); ++i) {
    client->request(actors[i], caf::infinite, name_atom::value)
        .receive([&](const std::string& name) { CHECK(name == "tally-" + std::to_string(i)); },
                 [&](caf::error& err) { FAIL(sys.render(err)); });
    // The sends came first from the same sender, so the total includes all five rounds.
    client->request(actors[i], caf::infinite, 0)
        .receive([&](int total) { CHECK(total == 5 * static_cast<int>(i)); },
                 [&](caf::error& err) { FAIL(sys.render(err)); });
  }
  // A request made in a shared handler: its answer reaches the actor that made it.
  client->request(actors[3], caf::infinite, relay_atom::value, actors[7], 1)
      .receive([&](int sum) { CHECK(sum == (5 * 7 + 1) + 5 * 3); },
               [&](caf::error& err) { FAIL(sys.render(err)); });
  CHECK(tally::behaviors_made == 40);
  CHECK(tally::handler_sets_built == 1);
  for (auto& a : actors) client->send_exit(a, caf::exit_reason::user_shutdown);
}
