// Replication between presence replicas (docs/presence.md §3.6): fixed scenarios on two and
// three nodes, the message codec, and a simulated network that loses, duplicates and reorders
// messages while nodes track, untrack, restart and crash, after which every replica must list
// the same entries. Every message crosses the simulated network as JSON text.
//
// The random runs print their seed on failure; BERYL_PROPERTY_SEED=<seed> makes it the first run.
#include "core/presence/codec.hpp"
#include "core/presence/replication.hpp"
#include "core/presence/state.hpp"
#include "seeded_random.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace json = boost::json;
using namespace beryl::presence;
using beryl::testing::random_source;
using beryl::testing::run_seed;
using namespace std::chrono_literals;

namespace {

using kind = replica_event::kind;

const replica_id observer{"observer", "0"};  // owns nothing, so its extract holds everything

// Short periods so that down and permdown come within a few dozen ticks.
replication_settings quick_settings() {
  replication_settings s;
  s.broadcast_period = 1500ms;
  s.max_silent_periods = 2;  // an idle replica heartbeats every third tick
  s.down_period = 9000ms;    // six ticks
  s.permdown_period = 30000ms;
  s.max_delta_sizes = {4, 16, 64};
  return s;
}

std::vector<std::string> refs(const std::vector<entry_ptr>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e->phx_ref);
  std::sort(out.begin(), out.end());
  return out;
}

const char* type_of(const peer_message& m) {
  if (std::holds_alternative<heartbeat>(m)) return "heartbeat";
  if (std::holds_alternative<transfer_request>(m)) return "transfer_request";
  return std::holds_alternative<delta>(std::get<transfer>(m).payload) ? "transfer(delta)"
                                                                      : "transfer(snapshot)";
}

// What the simulated network does to messages; none of it unless a test asks.
struct faults {
  random_source* rng = nullptr;
  unsigned loss_percent = 0;
  unsigned duplicate_percent = 0;
  unsigned max_delay_ticks = 0;  // delivery order is shuffled too whenever this is set
};

struct in_flight {
  std::string from;  // node
  std::string to;
  std::string text;
  std::string type;
  std::uint64_t due = 0;  // tick
};

// Nodes fully connected by a simulated network. Each node also keeps a phoenix.js-like view
// built only from the diffs it returned, which must always match what it lists.
class cluster {
 public:
  explicit cluster(replication_settings settings = quick_settings()) : settings_(settings) {}

  // A (re)start of `node` as incarnation `vsn`, connected to every running node.
  replicator& start(const std::string& node, const std::string& vsn) {
    if (nodes_.count(node)) stop(node);
    auto& started =
        *(nodes_[node] = std::make_unique<replicator>(replica_id{node, vsn}, settings_));
    views_[node].clear();
    for (auto& [name, other] : nodes_) {
      if (name == node) continue;
      send(*other, other->peer_connected(node));
      send(started, started.peer_connected(name));
    }
    return started;
  }

  // `node` tells `to` it is leaving for good (actors/cluster.cpp does so on shutdown).
  void left(const std::string& to, const std::string& node) { handle(to, at(to).node_left(node)); }

  // A crash: the node vanishes, and the others lose their connection to it.
  void stop(const std::string& node) {
    nodes_.erase(node);
    views_.erase(node);
    for (auto& [name, other] : nodes_) other->peer_lost(node);
  }

  replicator& at(const std::string& node) { return *nodes_.at(node); }
  bool running(const std::string& node) const { return nodes_.count(node) > 0; }
  const std::map<std::string, std::unique_ptr<replicator>>& nodes() const { return nodes_; }
  replicator::time_point now() const { return now_; }

  // Local operations, with their diffs applied to the node's view.
  void track(const std::string& node, const std::string& pid, const std::string& topic,
             const std::string& key, json::object meta = {}) {
    apply(node, at(node).track(pid, topic, key, std::move(meta)).changes);
  }
  void update(const std::string& node, const std::string& pid, const std::string& topic,
              const std::string& key, json::object meta) {
    apply(node, at(node).update(pid, topic, key, std::move(meta)).changes);
  }
  void untrack(const std::string& node, const std::string& pid, const std::string& topic,
               const std::string& key) {
    apply(node, at(node).untrack(pid, topic, key));
  }
  void untrack_all(const std::string& node, const std::string& pid) {
    apply(node, at(node).untrack_all(pid));
  }

  // One broadcast period: every node ticks, then the network delivers what is due.
  void tick() {
    now_ += settings_.broadcast_period;
    ++tick_;
    for (auto& [name, node] : nodes_) handle(name, node->tick(now_));
    deliver();
  }
  void ticks(int n) {
    for (int i = 0; i < n; ++i) tick();
  }

  // Delivers due messages, and the answers they cause, until nothing is due.
  void deliver() {
    for (;;) {
      std::vector<in_flight> due;
      auto keep = std::stable_partition(wire_.begin(), wire_.end(),
                                        [&](const in_flight& m) { return m.due > tick_; });
      due.assign(std::make_move_iterator(keep), std::make_move_iterator(wire_.end()));
      wire_.erase(keep, wire_.end());
      if (due.empty()) return;
      if (faults_.rng && faults_.max_delay_ticks > 0) shuffle(due);
      for (auto& m : due) arrive(m);
    }
  }

  // Everything in flight arrives (in order), then the network behaves.
  void heal() {
    faults_ = {};
    for (auto& m : wire_) m.due = tick_;
    deliver();
  }

  void set_faults(faults f) { faults_ = f; }
  // A scenario's own rule: messages it returns true for are lost.
  std::function<bool(const in_flight&)> drop;

  // Every message delivered so far, as "from>to type".
  std::vector<std::string> log;
  std::map<std::string, std::vector<replica_event>> events;

  std::vector<std::string> listed(const std::string& node, const std::string& topic) {
    return refs(at(node).local().list(topic));
  }
  std::vector<std::string> view(const std::string& node, const std::string& topic) {
    auto& refs = views_[node][topic];
    return {refs.begin(), refs.end()};
  }
  // Entries stored, visible or not.
  std::set<replica_id> stored_replicas(const std::string& node) {
    std::set<replica_id> out;
    for (const auto& [tag, e] : at(node).local().extract(observer).values) out.insert(tag.replica);
    return out;
  }

 private:
  void send(const replicator& from, const std::vector<outgoing>& messages) {
    for (const auto& m : messages) {
      auto text = encode(envelope{from.self(), m.message});
      for (const auto& to : m.to) post({from.self().node, to, text, type_of(m.message), tick_});
    }
  }

  void post(in_flight m) {
    if (faults_.rng) {
      auto& rng = *faults_.rng;
      if (rng.percent(faults_.loss_percent)) return;
      if (faults_.max_delay_ticks > 0) m.due += rng.below(faults_.max_delay_ticks + 1);
      if (rng.percent(faults_.duplicate_percent)) wire_.push_back(m);
    }
    wire_.push_back(std::move(m));
  }

  void arrive(const in_flight& m) {
    auto node = nodes_.find(m.to);
    if (node == nodes_.end() || (drop && drop(m))) return;
    auto decoded = decode_envelope(m.text);
    REQUIRE(decoded);
    REQUIRE(encode(*decoded) == m.text);
    log.push_back(m.from + ">" + m.to + " " + m.type);
    handle(m.to, node->second->receive(*decoded, now_));
  }

  void handle(const std::string& node, effects fx) {
    apply(node, fx.changes);
    auto& seen = events[node];
    seen.insert(seen.end(), fx.events.begin(), fx.events.end());
    send(at(node), fx.messages);
  }

  // phoenix.js applies joins, then leaves.
  void apply(const std::string& node, const diff& changes) {
    auto& view = views_[node];
    for (const auto& [topic, change] : changes) {
      for (const auto& e : change.joins) view[topic].insert(e->phx_ref);
      for (const auto& e : change.leaves) view[topic].erase(e->phx_ref);
    }
  }

  void shuffle(std::vector<in_flight>& items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[faults_.rng->below(i)]);
    }
  }

  replication_settings settings_;
  std::map<std::string, std::unique_ptr<replicator>> nodes_;
  std::map<std::string, std::map<std::string, std::set<std::string>>> views_;
  std::vector<in_flight> wire_;
  faults faults_;
  replicator::time_point now_{};
  std::uint64_t tick_ = 0;
};

bool saw(const std::vector<std::string>& log, const std::string& line) {
  return std::find(log.begin(), log.end(), line) != log.end();
}

bool has_event(const std::vector<replica_event>& events, kind what, const replica_id& replica) {
  return std::find(events.begin(), events.end(), replica_event{what, replica}) != events.end();
}

}  // namespace

// ---- settings and codec -------------------------------------------------------------------

TEST_CASE("presence replication: settings are checked as Phoenix checks them") {
  CHECK_FALSE(settings_error(replication_settings{}));
  CHECK_FALSE(settings_error(quick_settings()));

  auto s = replication_settings{};
  s.down_period = 2000ms;  // below twice the broadcast period
  CHECK(settings_error(s));
  CHECK_THROWS_AS(replicator({"a", "1"}, s), std::invalid_argument);
  s = {};
  s.down_period = 15000ms;  // an idle peer heartbeats every 16.5 s
  CHECK(settings_error(s));
  s = {};
  s.permdown_period = s.down_period;
  CHECK(settings_error(s));
  s = {};
  s.clock_sample_periods = 0;
  CHECK(settings_error(s));
}

TEST_CASE(
    "presence replication: every message round-trips through JSON; malformed text is refused") {
  state a({"a", "1"});
  a.track("p1", "t", "alice", json::object{{"nested", json::array{1, "x", nullptr}}});
  a.track("p2", "t", "bob", {});
  a.untrack("p2", "t", "bob");
  const replica_id from{"a", "1"};

  std::vector<peer_message> messages{
      heartbeat{a.take_delta(), a.clocks()},
      heartbeat{std::nullopt, a.clocks()},
      transfer_request{a.clocks()},
      transfer{a.extract(observer)},
  };
  a.track("p3", "t", "carol", {});
  messages.push_back(transfer{a.take_delta()});

  for (const auto& m : messages) {
    CAPTURE(type_of(m));
    auto text = encode(envelope{from, m});
    auto decoded = decode_envelope(text);
    REQUIRE(decoded);
    CHECK(decoded->from == from);
    CHECK(std::string(type_of(decoded->message)) == type_of(m));
    CHECK(encode(*decoded) == text);
  }

  CHECK_FALSE(decode_envelope("not json"));
  CHECK_FALSE(decode_envelope(R"({"from":["a","1"],"type":"heartbeat","delta":null})"));
  CHECK_FALSE(decode_envelope(R"({"from":["a"],"type":"transfer_request","clocks":[]})"));
  CHECK_FALSE(decode_envelope(R"({"from":["a","1"],"type":"gossip","clocks":[]})"));
  CHECK_FALSE(decode_envelope(R"({"from":["a","1"],"type":"transfer_request","clocks":[],"x":1})"));
  CHECK_FALSE(decode_envelope(R"({"from":["a","1"],"type":"transfer","delta":{}})"));
  CHECK_FALSE(decode_envelope(R"({"from":["a","1"],"type":"transfer"})"));
  CHECK(decode_envelope(R"({"from":["a","1"],"type":"transfer_request","clocks":[["a","1",2]]})"));
  CHECK(decode_envelope(R"({"from":["a","1"],"type":"heartbeat","delta":null,"clocks":[]})"));
}

// ---- scenarios ----------------------------------------------------------------------------

TEST_CASE("presence replication: connected replicas see each other up without waiting for a tick") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();
  CHECK(c.at("a").local().status({"b", "1"}) == replica_status::up);
  CHECK(c.at("b").local().status({"a", "1"}) == replica_status::up);
  CHECK(c.at("a").replica_of("b") == replica_id{"b", "1"});
  CHECK(has_event(c.events["a"], kind::up, {"b", "1"}));
  CHECK(c.at("a").connected() == std::set<std::string>{"b"});
}

TEST_CASE(
    "presence replication: a track on A is listed on B after one tick; untrack and update follow") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();

  c.track("a", "p1", "room:1", "alice", {{"s", "here"}});
  CHECK(c.listed("b", "room:1").empty());
  c.tick();
  CHECK(c.listed("b", "room:1") == c.listed("a", "room:1"));
  CHECK(c.listed("b", "room:1").size() == 1);
  CHECK(c.view("b", "room:1") == c.listed("b", "room:1"));  // B reported the join

  c.update("a", "p1", "room:1", "alice", {{"s", "away"}});
  c.tick();
  auto listed = c.at("b").local().list("room:1");
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]->meta.at("s") == "away");
  CHECK(c.view("b", "room:1") == c.listed("a", "room:1"));

  c.untrack("a", "p1", "room:1", "alice");
  c.tick();
  CHECK(c.listed("b", "room:1").empty());
  CHECK(c.view("b", "room:1").empty());  // B reported the leave
}

TEST_CASE("presence replication: three replicas all list everyone's entries") {
  cluster c;
  for (auto node : {"a", "b", "c"}) c.start(node, "1");
  c.deliver();
  c.track("a", "p", "t", "alice");
  c.track("b", "p", "t", "bob");
  c.track("c", "p", "t", "carol");
  c.track("c", "q", "t", "carol");  // a second tab
  c.tick();
  for (auto node : {"a", "b", "c"}) {
    CAPTURE(node);
    CHECK(c.listed(node, "t").size() == 4);
    CHECK(c.listed(node, "t") == c.listed("a", "t"));
    CHECK(c.view(node, "t") == c.listed(node, "t"));
  }
  c.untrack_all("c", "q");
  c.tick();
  for (auto node : {"a", "b", "c"}) CHECK(c.listed(node, "t").size() == 3);
}

TEST_CASE("presence replication: an empty heartbeat every max_silent_periods + 1 ticks") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();
  c.tick();  // the first tick always heartbeats
  CHECK(saw(c.log, "a>b heartbeat"));
  for (int period = 0; period < 2; ++period) {
    c.log.clear();
    c.ticks(2);
    CHECK_FALSE(saw(c.log, "a>b heartbeat"));
    c.tick();
    CHECK(saw(c.log, "a>b heartbeat"));
  }
}

TEST_CASE(
    "presence replication: a peer silent for down_period goes down; its next heartbeat brings it "
    "back") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();
  c.track("a", "p1", "t", "alice");
  c.track("a", "p2", "t", "bob");
  c.tick();
  auto before = c.listed("b", "t");
  REQUIRE(before.size() == 2);

  c.drop = [](const in_flight& m) { return m.from == "a"; };
  c.ticks(7);  // more than six ticks without a heartbeat
  CHECK(c.at("b").local().status({"a", "1"}) == replica_status::down);
  CHECK(has_event(c.events["b"], kind::down, {"a", "1"}));
  CHECK(c.listed("b", "t").empty());
  CHECK(c.view("b", "t").empty());                                 // leaves reported
  CHECK(c.stored_replicas("b").count(replica_id{"a", "1"}) == 1);  // but kept

  c.drop = nullptr;
  c.ticks(3);  // a's next idle heartbeat
  CHECK(c.at("b").local().status({"a", "1"}) == replica_status::up);
  CHECK(c.listed("b", "t") == before);  // same entries, same refs
  CHECK(c.view("b", "t") == before);
}

TEST_CASE(
    "presence replication: after permdown_period a silent replica's entries are gone for good") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();
  c.track("a", "p1", "t", "alice");
  c.tick();
  REQUIRE(c.listed("b", "t").size() == 1);

  c.drop = [](const in_flight& m) { return m.from == "a"; };
  c.ticks(21);  // more than twenty ticks of silence
  CHECK(has_event(c.events["b"], kind::permdown, {"a", "1"}));
  CHECK(c.at("b").local().is_retired({"a", "1"}));
  CHECK(c.stored_replicas("b").count(replica_id{"a", "1"}) == 0);
  CHECK_FALSE(c.at("b").replica_of("a"));
  for (const auto& g : c.at("b").generations()) CHECK(g.start.count({"a", "1"}) == 0);

  // That incarnation is finished: even if it speaks again, nothing of it comes back.
  c.drop = nullptr;
  c.ticks(4);
  CHECK(c.listed("b", "t").empty());
  CHECK(c.at("b").local().status({"a", "1"}) == std::nullopt);
}

TEST_CASE(
    "presence replication: a restarted node (new vsn) replaces its old incarnation's entries") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.start("c", "1");
  c.deliver();
  c.track("a", "p1", "t", "alice");
  c.track("b", "p1", "t", "bob");
  c.tick();
  REQUIRE(c.listed("b", "t").size() == 2);
  auto stale = encode(envelope{{"a", "1"}, heartbeat{std::nullopt, c.at("a").local().clocks()}});

  c.start("a", "2");  // the old incarnation never says goodbye
  c.track("a", "p1", "t", "alice");
  c.deliver();
  for (auto node : {"b", "c"}) {
    CAPTURE(node);
    const auto& seen = c.events[node];
    CHECK(has_event(seen, kind::permdown, {"a", "1"}));
    CHECK(has_event(seen, kind::up, {"a", "2"}));
    CHECK(c.at(node).replica_of("a") == replica_id{"a", "2"});
    CHECK(c.stored_replicas(node).count(replica_id{"a", "1"}) == 0);
  }
  c.tick();
  for (auto node : {"a", "b", "c"}) {
    CAPTURE(node);
    CHECK(c.listed(node, "t") == c.listed("a", "t"));
    CHECK(c.view(node, "t") == c.listed(node, "t"));
  }
  CHECK(c.listed("a", "t").size() == 2);  // the new alice and bob

  // A late heartbeat of the old incarnation changes nothing.
  auto late = decode_envelope(stale);
  REQUIRE(late);
  auto fx = c.at("b").receive(*late, c.now());
  CHECK(fx.messages.empty());
  CHECK(fx.changes.empty());
  CHECK(fx.events.empty());
  CHECK(c.at("b").replica_of("a") == replica_id{"a", "2"});
}

TEST_CASE("presence replication: a node that leaves on purpose is gone at once, not after down") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();
  c.track("a", "p1", "t", "alice");
  c.track("b", "p1", "t", "bob");
  c.tick();
  REQUIRE(c.listed("b", "t").size() == 2);
  const auto bob = refs(c.at("b").local().get_by_key("t", "bob"));
  auto stale = encode(envelope{{"a", "1"}, heartbeat{std::nullopt, c.at("a").local().clocks()}});

  c.left("b", "a");  // no tick, no silence: at once
  CHECK(has_event(c.events["b"], kind::permdown, {"a", "1"}));
  CHECK(c.listed("b", "t") == bob);
  CHECK(c.view("b", "t") == bob);  // local clients were told alice left
  CHECK_FALSE(c.at("b").replica_of("a"));
  CHECK(c.stored_replicas("b").count(replica_id{"a", "1"}) == 0);

  // Said twice, or of a node never seen, it changes nothing.
  CHECK(c.at("b").node_left("a").changes.empty());
  CHECK(c.at("b").node_left("nobody").events.empty());
  // A late message of the incarnation that left brings nothing back.
  auto late = decode_envelope(stale);
  REQUIRE(late);
  CHECK(c.at("b").receive(*late, c.now()).changes.empty());
  CHECK(c.listed("b", "t") == bob);

  // Its next start is followed as any new incarnation.
  c.start("a", "2");
  c.track("a", "p1", "t", "alice");
  c.deliver();
  c.tick();
  CHECK(c.at("b").replica_of("a") == replica_id{"a", "2"});
  CHECK(c.listed("b", "t").size() == 2);
  CHECK(c.view("b", "t") == c.listed("b", "t"));
}

TEST_CASE("presence replication: a node that starts late gets existing entries by transfer") {
  cluster c;
  c.start("a", "1");
  c.track("a", "p1", "t", "alice");
  c.ticks(2);  // shipped to nobody
  c.start("b", "1");
  c.deliver();
  CHECK(c.listed("b", "t") == c.listed("a", "t"));
  CHECK(saw(c.log, "b>a transfer_request"));
  CHECK(saw(c.log, "a>b transfer(delta)"));  // the generation reaches back far enough
}

TEST_CASE(
    "presence replication: a peer that missed heartbeats asks for a transfer and gets a delta "
    "generation") {
  cluster c;
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();
  c.track("a", "p1", "t", "alice");
  c.tick();

  c.drop = [](const in_flight& m) { return m.from == "a" && m.type == "heartbeat"; };
  c.track("a", "p2", "t", "bob");
  c.tick();
  c.untrack("a", "p1", "t", "alice");
  c.tick();
  CHECK(c.listed("b", "t").size() == 1);  // still the stale alice

  c.drop = nullptr;
  c.log.clear();
  c.track("a", "p3", "t", "carol");
  c.ticks(4);  // a heartbeat shows the gap, then b samples clocks
  CHECK(saw(c.log, "b>a transfer_request"));
  CHECK(saw(c.log, "a>b transfer(delta)"));
  CHECK_FALSE(saw(c.log, "a>b transfer(snapshot)"));
  CHECK(c.listed("b", "t") == c.listed("a", "t"));
  CHECK(c.listed("b", "t").size() == 2);
  CHECK(c.view("b", "t") == c.listed("b", "t"));
}

TEST_CASE("presence replication: a peer behind every kept generation gets a full snapshot") {
  auto settings = quick_settings();
  settings.max_delta_sizes = {3, 6};  // small generations, quickly outgrown
  cluster c(settings);
  c.start("a", "1");
  c.start("b", "1");
  c.deliver();
  c.track("a", "p0", "t", "zero");
  c.tick();

  // Four lost heartbeats (fewer than down_period), each with a few operations.
  c.drop = [](const in_flight& m) { return m.from == "a" && m.type == "heartbeat"; };
  int next = 1;
  for (int period = 0; period < 4; ++period) {
    for (int i = 0; i < 3; ++i, ++next) c.track("a", "p" + std::to_string(next), "t", "u");
    c.untrack("a", "p" + std::to_string(next - 2), "t", "u");
    c.tick();
  }
  c.drop = nullptr;
  c.log.clear();
  c.track("a", "p" + std::to_string(next), "t", "u");
  c.ticks(4);  // a heartbeat shows the gap, then b samples clocks
  CHECK(saw(c.log, "b>a transfer_request"));
  CHECK(saw(c.log, "a>b transfer(snapshot)"));
  CHECK(c.at("b").local().status({"a", "1"}) == replica_status::up);
  CHECK(c.listed("b", "t") == c.listed("a", "t"));
  CHECK(c.view("b", "t") == c.listed("b", "t"));
}

TEST_CASE(
    "presence replication: a transfer request is answered only when the requester lacks shipped "
    "dots") {
  const replica_id a_id{"a", "1"};
  const replica_id b_id{"b", "1"};
  replicator a(a_id, quick_settings());
  replicator::time_point now{};
  a.track("p1", "t", "alice", {});
  a.tick(now);  // shipped, to nobody
  REQUIRE(a.generations().size() == 3);

  auto behind = a.receive(b_id, transfer_request{{{a_id, 0}, {b_id, 0}}}, now);
  REQUIRE(behind.messages.size() == 1);
  CHECK(behind.messages[0].to == std::vector<std::string>{"b"});
  CHECK(std::string(type_of(behind.messages[0].message)) == "transfer(delta)");

  // Operations since the last tick travel with the next heartbeat, not in a transfer.
  a.track("p2", "t", "bob", {});
  CHECK(a.receive(b_id, transfer_request{{{a_id, 1}, {b_id, 0}}}, now).messages.empty());

  // A full state moves the prefixes past the generations: they start afresh.
  replicator b(b_id, quick_settings());
  b.receive(a_id, heartbeat{std::nullopt, {{a_id, 1}}}, now);
  auto answer = a.receive(b_id, transfer_request{{{a_id, 0}, {b_id, 0}}}, now);
  REQUIRE(answer.messages.size() == 1);
  b.receive(a_id, answer.messages[0].message, now);
  CHECK(b.generations().size() == 3);
  b.receive(a_id, transfer{a.local().extract(b_id)}, now);
  CHECK(b.generations().empty());
  CHECK(b.local().list("t").size() == 2);
}

TEST_CASE(
    "presence replication: a removal relayed through a third replica reaches a peer cut from the "
    "owner") {
  cluster c;
  for (auto node : {"a", "b", "c"}) c.start(node, "1");
  c.deliver();
  c.track("a", "p1", "t", "alice");
  c.track("a", "p2", "t", "bob");
  c.tick();
  REQUIRE(c.listed("c", "t").size() == 2);

  // c hears from a only through b; a short cut, shorter than down_period.
  c.drop = [](const in_flight& m) { return m.from == "a" && m.to == "c"; };
  c.untrack("a", "p1", "t", "alice");
  c.ticks(4);
  CHECK(c.listed("c", "t") == c.listed("a", "t"));
  CHECK(c.at("c").local().status({"a", "1"}) == replica_status::up);
}

// ---- simulated network --------------------------------------------------------------------

namespace {

const std::vector<std::string> topics{"room:a", "room:b"};
const std::vector<std::string> keys{"u1", "u2", "u3"};
const std::vector<std::string> pids{"p1", "p2", "p3", "p4"};

void random_operation(cluster& c, const std::string& node, random_source& rng) {
  const auto& pid = rng.pick(pids);
  const auto& topic = rng.pick(topics);
  const auto& key = rng.pick(keys);
  switch (rng.below(6)) {
    case 0:
    case 1:
    case 2:
      c.track(node, pid, topic, key, {{"n", rng.below(1000)}});
      break;
    case 3:
      c.update(node, pid, topic, key, {{"n", rng.below(1000)}});
      break;
    case 4:
      c.untrack(node, pid, topic, key);
      break;
    default:
      c.untrack_all(node, pid);
  }
}

// Every replica's view equals what it lists: the diffs it returned were exact.
void check_views(cluster& c) {
  for (const auto& [node, r] : c.nodes()) {
    for (const auto& topic : topics) {
      INFO("node " << node << ", topic " << topic);
      REQUIRE(c.view(node, topic) == c.listed(node, topic));
    }
  }
}

// What the running incarnations track themselves: every replica must list exactly that.
std::map<std::string, std::vector<std::string>> tracked_by_live(cluster& c) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& topic : topics) {
    auto& refs = out[topic];
    for (const auto& [node, r] : c.nodes()) {
      for (const auto& e : r->local().list(topic)) {
        if (e->tag.replica == r->self()) refs.push_back(e->phx_ref);
      }
    }
    std::sort(refs.begin(), refs.end());
  }
  return out;
}

void run_simulation(std::uint64_t seed) {
  INFO("seed " << seed << " (BERYL_PROPERTY_SEED=" << seed << " replays it)");
  random_source rng(seed);
  cluster c;
  std::vector<std::string> names{"n0", "n1", "n2", "n3"};
  std::map<std::string, int> vsn;
  std::set<replica_id> dead;  // incarnations that crashed or were replaced
  for (const auto& n : names) c.start(n, std::to_string(vsn[n] = 1));
  c.set_faults({&rng, 20, 10, 3});

  bool crashed = false;
  for (int tick = 0; tick < 80; ++tick) {
    for (const auto& [node, r] : c.nodes()) {
      for (auto ops = rng.below(3); ops > 0; --ops) random_operation(c, node, rng);
    }
    const auto& victim = rng.pick(names);
    if (c.running(victim) && rng.percent(3)) {
      dead.insert(c.at(victim).self());
      if (!crashed && rng.percent(40)) {
        crashed = true;  // gone for good
        c.stop(victim);
      } else {
        c.start(victim, std::to_string(++vsn[victim]));
      }
    }
    c.tick();
    check_views(c);
  }

  c.heal();
  c.ticks(30);  // quiet: past permdown_period for a crashed node, and several sample periods
  check_views(c);
  auto expected = tracked_by_live(c);
  for (const auto& [node, r] : c.nodes()) {
    for (const auto& topic : topics) {
      INFO("node " << node << ", topic " << topic);
      CHECK(c.listed(node, topic) == expected[topic]);
    }
    for (const auto& replica : c.stored_replicas(node)) {
      INFO("node " << node << " stores entries of " << replica.node << "/" << replica.vsn);
      CHECK(dead.count(replica) == 0);
    }
    for (const auto& [other, o] : c.nodes()) {
      if (other != node) CHECK(r->local().status(o->self()) == replica_status::up);
    }
  }
}

}  // namespace

TEST_CASE("presence replication: replicas converge over a lossy, duplicating, reordering network") {
  for (std::uint64_t run = 0; run < 20; ++run) run_simulation(run_seed(run, 0x5eed0301ULL));
}
