#include "actors/cluster.hpp"

#include "actors/cluster_gate.hpp"
#include "actors/limited_log.hpp"
#include "core/cluster/auth.hpp"
#include "core/cluster/peer_address.hpp"
#include "core/cluster/send_window.hpp"
#include "core/exact_json.hpp"
#include "core/json_text.hpp"
#include "core/log_text.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <map>
#include <optional>
#include <random>

namespace json = boost::json;

namespace beryl {
namespace {

using clock = std::chrono::steady_clock;

// Dialling and each handshake step: a peer that does not answer within it is dialled again later.
constexpr auto handshake_timeout = std::chrono::seconds(5);
// How long a node shutting down waits for its peers to confirm they heard it leave.
constexpr auto leave_timeout = std::chrono::seconds(1);

// What may wait for one peer, sent and not yet acknowledged by its heartbeats: 4 heartbeat
// periods of a 32 MB/s stream. Past it, messages for that peer are dropped, not queued.
constexpr std::uint64_t max_unacknowledged_bytes = 32ull << 20;

// An admitted peer, by its CAF node.
struct admitted_peer {
  std::string node;
  std::uint64_t incarnation = 0;
  cluster_peer_actor handle;
  cluster::send_window window{max_unacknowledged_bytes};
  std::uint64_t received_bytes = 0;              // from it, acknowledged in our heartbeats
  std::chrono::milliseconds replication_lag{0};  // of its last replication message
  bool left = false;                             // it said it is shutting down
};

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct cluster_state {
  cluster_settings settings;
  std::optional<cluster::membership> members;
  pubsub_ref pubsub;
  presence_ref presence;
  std::map<caf::node_id, admitted_peer> peers;
  std::uint64_t forwarded = 0;        // messages sent to peers
  std::uint64_t received = 0;         // broadcasts received from peers
  std::uint64_t replicated = 0;       // presence replication messages sent to peers
  std::uint64_t dropped = 0;          // messages not sent: the peer's window was full
  std::size_t unanswered_leaves = 0;  // shutting down: peers yet to confirm they heard it
  limited_log log;
  static inline const char* name = "cluster";
};

// The public protocol plus the heartbeat timer.
using cluster_impl = cluster_actor::extend<caf::reacts_to<atoms::tick>>;
using cluster_pointer = cluster_impl::stateful_pointer<cluster_state>;

// A message from this process (a pubsub shard, the gate, an HTTP route's asker).
bool from_this_node(cluster_pointer self) {
  const auto& sender = self->current_sender();
  return sender && sender->node() == self->node();
}

// The admitted peer a message came from, or nullptr: peer messages from anyone else are dropped.
admitted_peer* sending_peer(cluster_pointer self) {
  const auto& sender = self->current_sender();
  if (!sender || sender->node() == self->node()) return nullptr;
  auto it = self->state.peers.find(sender->node());
  return it == self->state.peers.end() ? nullptr : &it->second;
}

void send_heartbeat(cluster_pointer self, const admitted_peer& to) {
  const auto& me = self->state.members->self();
  self->send(to.handle, atoms::heartbeat::value, me.node, me.incarnation,
             self->state.members->known_addresses(), to.received_bytes);
}

// Whether `bytes` more fit `peer`'s window; a full window is counted and logged.
bool fits_window(cluster_pointer self, admitted_peer& peer, std::size_t bytes) {
  if (peer.window.try_send(bytes)) return true;
  ++self->state.dropped;
  self->state.log.warn(
      "cluster: a message for '{}' dropped: {} bytes wait unacknowledged (a slow "
      "or stalled node)",
      log_text(peer.node), peer.window.in_flight());
  return false;
}

// Presence shards replicate with the peers the cluster reports connected.
void tell_presence(cluster_pointer self, const std::string& node, bool connected) {
  for (const auto& shard : self->state.presence.shards())
    self->send(shard, atoms::peer::value, node, connected);
}

// False when the peer cannot be admitted (no handle, or this node's own name).
bool admit(cluster_pointer self, const caf::actor& handle, cluster::node_identity peer,
           const std::string& dialled) {
  auto& st = self->state;
  if (!handle) return false;
  if (peer.node == st.settings.node) {
    st.log.error("cluster: the node at {} is also named '{}': every --node must be unique",
                 log_text(peer.address), log_text(peer.node));
    return false;
  }
  auto admission = st.members->admit(peer, dialled, clock::now());
  if (admission.replaced) {
    for (auto it = st.peers.begin(); it != st.peers.end(); ++it) {
      if (it->second.node != peer.node || it->second.incarnation != *admission.replaced) continue;
      self->demonitor(it->second.handle.address());
      st.peers.erase(it);
      break;
    }
  }
  auto [it, inserted] = st.peers.try_emplace(
      handle.node(),
      admitted_peer{peer.node, peer.incarnation, caf::actor_cast<cluster_peer_actor>(handle)});
  if (inserted) self->monitor(handle);
  if (admission.came_up) {
    spdlog::info("cluster: peer '{}' at {} is up{}", log_text(peer.node), log_text(peer.address),
                 admission.replaced ? " (restarted: its old start is gone)" : "");
    tell_presence(self, peer.node, true);
  }
  send_heartbeat(self, it->second);
  return true;
}

void dial_failed(cluster_pointer self, const std::string& address, const std::string& why) {
  if (self->state.members->dial_failed(address, clock::now()))
    spdlog::warn("cluster: peer {} stays unreachable: {} (retrying every {} ms at most)", address,
                 log_text(why), self->state.settings.membership.retry_max.count());
}

// The handshake's dialer side (actors/cluster.hpp, cluster_gate_actor).
void greet(cluster_pointer self, const std::string& address, const cluster_gate_actor& gate) {
  auto nonce = cluster::new_nonce();
  const auto& me = self->state.members->self();
  self->request(gate, handshake_timeout, atoms::hello::value, me.node, nonce)
      .then(
          [=](std::string& node, std::string& their_nonce, const std::string& their_proof) {
            auto& st = self->state;
            auto expected = cluster::proof(st.settings.secret, cluster::role::listener, node,
                                           their_nonce, nonce);
            if (!cluster::proofs_match(expected, their_proof)) {
              st.log.warn(
                  "cluster: refused the node at {} ('{}'): it did not prove it knows the "
                  "cluster secret (another cluster, or another --cluster-secret)",
                  address, log_text(node));
              return dial_failed(self, address, "refused: another cluster secret");
            }
            const auto& me = st.members->self();
            auto our_proof = cluster::proof(st.settings.secret, cluster::role::dialer, me.node,
                                            nonce, their_nonce);
            self->request(gate, handshake_timeout, atoms::prove::value, me.node, me.incarnation,
                          me.address, our_proof, caf::actor_cast<caf::actor>(self))
                .then(
                    [=](const caf::actor& cluster, std::uint64_t incarnation,
                        std::string& their_address) {
                      if (!admit(self, cluster, {node, incarnation, std::move(their_address)},
                                 address))
                        dial_failed(self, address, "not admitted: see the error above");
                    },
                    [=](caf::error& err) {
                      self->state.log.warn(
                          "cluster: the node at {} refused us ({}): another --cluster-secret?",
                          address, self->system().render(err));
                      dial_failed(self, address, "refused our proof");
                    });
          },
          [=](caf::error& err) { dial_failed(self, address, self->system().render(err)); });
}

void dial(cluster_pointer self, const std::string& address) {
  cluster::peer_address to;
  try {
    to = cluster::parse_peer_address(address);
  } catch (const std::exception& e) {
    return dial_failed(self, address, e.what());
  }
  auto middleman = self->system().middleman().actor_handle();
  self->request(middleman, handshake_timeout, caf::connect_atom::value, to.host, to.port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& gate, const std::set<std::string>&) {
            if (!gate) return dial_failed(self, address, "nothing published there");
            greet(self, address, caf::actor_cast<cluster_gate_actor>(gate));
          },
          [=](caf::error& err) { dial_failed(self, address, self->system().render(err)); });
}

void on_tick(cluster_pointer self) {
  auto& st = self->state;
  auto now = clock::now();
  for (const auto& address : st.members->dials_due(now)) dial(self, address);
  for (const auto& node : st.members->silent_peers_down(now))
    spdlog::warn("cluster: peer '{}' is down: no heartbeat for {} ms", log_text(node),
                 st.settings.membership.down_after.count());
  for (const auto& [id, peer] : st.peers) send_heartbeat(self, peer);
  self->delayed_send(self, st.settings.membership.heartbeat_interval, atoms::tick::value);
}

void on_peer_down(cluster_pointer self, const caf::down_msg& down) {
  auto& st = self->state;
  for (auto it = st.peers.begin(); it != st.peers.end(); ++it) {
    if (it->second.handle.address() != down.source) continue;
    spdlog::warn("cluster: lost the connection to peer '{}': {}", log_text(it->second.node),
                 self->system().render(down.reason));
    st.members->connection_lost(it->second.node, it->second.incarnation, clock::now());
    tell_presence(self, it->second.node, false);
    st.peers.erase(it);
    return;
  }
}

// An orderly stop tells every up peer first, so that they drop this node's presences now
// instead of after the down period, and ends once they have answered (or leave_timeout has
// passed). Any other reason ends the actor at once: a crash says nothing, and is restarted.
void on_exit(cluster_pointer self, caf::exit_msg& msg) {
  auto& st = self->state;
  if (msg.reason == caf::exit_reason::normal || st.unanswered_leaves > 0) return;
  if (msg.reason != caf::exit_reason::user_shutdown) return self->quit(std::move(msg.reason));
  auto answered = [self] {
    if (--self->state.unanswered_leaves == 0) self->quit(caf::exit_reason::user_shutdown);
  };
  for (const auto& [id, peer] : st.peers) {
    if (!st.members->is_up(peer.node, peer.incarnation)) continue;
    ++st.unanswered_leaves;
    self->request(peer.handle, leave_timeout, atoms::leave::value)
        .then([answered](caf::ok_atom) { answered(); }, [answered](caf::error&) { answered(); });
  }
  if (st.unanswered_leaves == 0) self->quit(caf::exit_reason::user_shutdown);
}

// A peer's broadcast, back into a payload for this node's pubsub; nothing when malformed.
std::optional<payload> body_of(const std::string& body, bool binary_body) {
  if (binary_body) return payload{binary{body}};
  boost::system::error_code ec;
  auto value = parse_exact_json(body, ec);
  if (ec) return std::nullopt;
  return payload{std::move(value)};
}

// The slowest up peer's: how late its last replication message arrived, by the two clocks.
std::chrono::milliseconds replication_lag(cluster_pointer self) {
  std::chrono::milliseconds lag{0};
  for (const auto& [id, peer] : self->state.peers)
    if (self->state.members->is_up(peer.node, peer.incarnation))
      lag = std::max(lag, peer.replication_lag);
  return lag;
}

json::value peers_json(cluster_pointer self) {
  json::array peers;
  for (const auto& p : self->state.members->peers(clock::now()))
    peers.push_back(json::object{{"node", p.node},
                                 {"address", p.address},
                                 {"status", p.status == cluster::peer_status::up ? "up" : "down"},
                                 {"last_heartbeat_ms", p.since_heartbeat.count()}});
  return json::object{{"node", self->state.settings.node}, {"peers", std::move(peers)}};
}

cluster_impl::behavior_type cluster_behavior(cluster_pointer self, cluster_settings settings,
                                             cluster::node_identity me, pubsub_ref pubsub,
                                             presence_ref presence) {
  auto& st = self->state;
  st.members.emplace(std::move(me), settings.membership);
  st.pubsub = std::move(pubsub);
  st.presence = std::move(presence);
  auto now = clock::now();
  for (const auto& seed : settings.seeds) st.members->learn_address(seed, now);
  st.settings = std::move(settings);
  for (const auto& shard : st.pubsub.shards())
    self->send(shard, atoms::cluster::value, caf::actor_cast<cluster_forwarder>(self));
  for (const auto& shard : st.presence.shards())
    self->send(shard, atoms::cluster::value, caf::actor_cast<cluster_replicator>(self));
  self->set_down_handler([=](caf::down_msg& down) { on_peer_down(self, down); });
  self->set_exit_handler([=](caf::exit_msg& msg) { on_exit(self, msg); });
  self->send(self, atoms::tick::value);
  return {
      [=](atoms::tick) {
        if (from_this_node(self)) on_tick(self);
      },
      [=](atoms::heartbeat, const std::string& node, std::uint64_t incarnation,
          const std::vector<std::string>& addresses, std::uint64_t received_from_us) {
        auto* peer = sending_peer(self);
        if (!peer || peer->node != node || peer->incarnation != incarnation) return;
        peer->window.acknowledged(received_from_us);
        auto& members = *self->state.members;
        auto now = clock::now();
        if (members.heartbeat(node, incarnation, now))
          spdlog::info("cluster: peer '{}' is up again", log_text(node));
        for (const auto& a : addresses) members.learn_address(a, now);
      },
      [=](atoms::forward, std::string& topic, std::string& event, const std::string& body,
          bool binary_body) {
        auto* peer = sending_peer(self);
        if (!peer) return;
        peer->received_bytes += topic.size() + event.size() + body.size();
        auto decoded = body_of(body, binary_body);
        if (!decoded) return;
        ++self->state.received;
        const auto& shard = self->state.pubsub.shard_for(topic);
        self->send(shard, atoms::forward::value, std::move(topic), std::move(event),
                   std::move(*decoded));
      },
      [=](atoms::broadcast, const std::string& topic, const std::string& event,
          const payload& body) {
        if (!from_this_node(self)) return;
        auto& st = self->state;
        std::optional<std::string> text;  // encoded once, for the first up peer
        bool binary_body = std::holds_alternative<binary>(body);
        for (auto& [id, peer] : st.peers) {
          if (!st.members->is_up(peer.node, peer.incarnation)) continue;
          if (!text) {
            text.emplace();
            if (binary_body)
              *text = std::get<binary>(body).bytes;
            else
              wire::append_json(*text, std::get<json::value>(body));
          }
          if (!fits_window(self, peer, topic.size() + event.size() + text->size())) continue;
          self->send(peer.handle, atoms::forward::value, topic, event, *text, binary_body);
          ++st.forwarded;
        }
      },
      [=](atoms::replicate, const std::vector<std::string>& to, std::uint64_t shard,
          std::uint64_t shards, const std::string& envelope) {
        if (!from_this_node(self)) return;
        // A dropped replication message is recovered by the replicator's transfers.
        for (auto& [id, peer] : self->state.peers) {
          if (std::find(to.begin(), to.end(), peer.node) == to.end()) continue;
          if (!fits_window(self, peer, envelope.size())) continue;
          self->send(peer.handle, atoms::replicate::value, shard, shards, envelope, unix_ms());
          ++self->state.replicated;
        }
      },
      [=](atoms::replicate, std::uint64_t shard, std::uint64_t shards, std::string& envelope,
          std::int64_t sent_at) {
        auto* peer = sending_peer(self);
        if (!peer) return;
        peer->received_bytes += envelope.size();
        peer->replication_lag =
            std::chrono::milliseconds(std::max<std::int64_t>(0, unix_ms() - sent_at));
        auto& st = self->state;
        if (shard >= shards) return;
        if (shards != st.presence.shards().size()) {
          st.log.warn(
              "cluster: presence from '{}' dropped: it runs {} presence shards, this node "
              "{} (--presence-shards must be the same on every node)",
              log_text(peer->node), shards, st.presence.shards().size());
          return;
        }
        self->send(st.presence.shards()[shard], atoms::replicate::value, std::move(envelope));
      },
      // Said once per start of a peer: a repeat is answered, and does nothing.
      [=](atoms::leave) {
        auto* peer = sending_peer(self);
        if (peer && !peer->left) {
          peer->left = true;
          spdlog::info("cluster: peer '{}' is shutting down: its presences leave now",
                       log_text(peer->node));
          for (const auto& shard : self->state.presence.shards())
            self->send(shard, atoms::leave::value, peer->node);
        }
        return caf::ok_atom::value;
      },
      [=](atoms::peer, const caf::actor& handle, std::string& node, std::uint64_t incarnation,
          std::string& address) {
        if (from_this_node(self))
          static_cast<void>(
              admit(self, handle, {std::move(node), incarnation, std::move(address)}, ""));
      },
      // Answered with null to other nodes. (Not caf::result<json::value>: it would brace-initialize
      // the value, making it an array.)
      [=](atoms::list) -> json::value {
        if (!from_this_node(self)) return nullptr;
        return peers_json(self);
      },
      [=](atoms::stats) -> json::value {
        if (!from_this_node(self)) return nullptr;
        const auto& st = self->state;
        return json::value(json::object{{"peers_up", st.members->up_count()},
                                        {"peers", st.members->peers(clock::now()).size()},
                                        {"forwarded", st.forwarded},
                                        {"received", st.received},
                                        {"replicated", st.replicated},
                                        {"dropped", st.dropped},
                                        {"replication_lag_ms", replication_lag(self).count()}});
      },
  };
}

std::uint64_t new_incarnation() {
  std::random_device random;
  return (std::uint64_t{random()} << 32) ^ random() ^
         static_cast<std::uint64_t>(clock::now().time_since_epoch().count());
}

}  // namespace

cluster_actor spawn_cluster(caf::actor_system& sys, cluster_settings settings, pubsub_ref pubsub,
                            presence_ref presence) {
  cluster::node_identity me{settings.node, new_incarnation(), settings.address()};
  auto secret = settings.secret;
  auto bind = settings.bind;
  auto port = settings.port;
  auto cluster = caf::actor_cast<cluster_actor>(
      sys.spawn(cluster_behavior, std::move(settings), me, std::move(pubsub), std::move(presence)));
  auto gate = spawn_cluster_gate(sys, std::move(me), std::move(secret), cluster);
  // A restarted cluster takes the port over from its previous start, whose gate died with it but
  // stays published (nothing is published there on the first start: that error means nothing).
  static_cast<void>(sys.middleman().close(port));
  auto published = sys.middleman().publish(gate, port, bind.c_str(), true);
  if (!published) {
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot listen for cluster peers on " + bind + ":" +
                             std::to_string(port) + ": " + sys.render(published.error()));
  }
  spdlog::info("cluster: node listening for peers on {}:{}", bind, *published);
  return cluster;
}

}  // namespace beryl
