#include "actors/cluster_gate.hpp"

#include "actors/limited_log.hpp"
#include "core/cluster/auth.hpp"
#include "core/log_text.hpp"

#include <caf/all.hpp>

#include <deque>
#include <map>

namespace beryl {
namespace {

// A challenge handed out in answer to a hello, waiting for the dialer's proof. At most
// max_challenges wait: a flood of hellos pushes the oldest out, it does not grow the gate.
struct challenge {
  std::string dialer;
  std::string dialer_nonce;
  std::string nonce;
};
constexpr std::size_t max_challenges = 64;

struct gate_state {
  cluster::node_identity identity;
  std::string secret;
  cluster_actor cluster;
  std::map<caf::node_id, challenge> challenges;  // by the dialer's node
  std::deque<caf::node_id> arrival;              // oldest first
  limited_log log;
  static inline const char* name = "cluster_gate";
};

using gate_pointer = cluster_gate_actor::stateful_pointer<gate_state>;

// The CAF node a message came from; none for anonymous messages, which the gate never answers.
std::optional<caf::node_id> sender_node(gate_pointer self) {
  const auto& sender = self->current_sender();
  if (!sender) return std::nullopt;
  return sender->node();
}

void remember(gate_pointer self, const caf::node_id& from, challenge c) {
  auto& st = self->state;
  if (st.challenges.insert_or_assign(from, std::move(c)).second) st.arrival.push_back(from);
  while (st.challenges.size() > max_challenges) {
    st.challenges.erase(st.arrival.front());
    st.arrival.pop_front();
  }
}

std::optional<challenge> take(gate_pointer self, const caf::node_id& from) {
  auto& st = self->state;
  auto it = st.challenges.find(from);
  if (it == st.challenges.end()) return std::nullopt;
  auto c = std::move(it->second);
  st.challenges.erase(it);
  st.arrival.erase(std::find(st.arrival.begin(), st.arrival.end(), from));
  return c;
}

cluster_gate_actor::behavior_type gate(gate_pointer self, cluster::node_identity identity,
                                       std::string secret, cluster_actor cluster) {
  // They live and die together: the cluster's supervisor restarts both.
  self->link_to(cluster);
  self->state.identity = std::move(identity);
  self->state.secret = std::move(secret);
  self->state.cluster = std::move(cluster);
  using hello_answer = caf::result<std::string, std::string, std::string>;
  using prove_answer = caf::result<caf::actor, std::uint64_t, std::string>;
  return {
      [=](atoms::hello, std::string& dialer, std::string& dialer_nonce) -> hello_answer {
        auto from = sender_node(self);
        if (!from) return caf::sec::invalid_argument;
        const auto& me = self->state.identity;
        auto nonce = cluster::new_nonce();
        auto our_proof = cluster::proof(self->state.secret, cluster::role::listener, me.node, nonce,
                                        dialer_nonce);
        remember(self, *from, {std::move(dialer), std::move(dialer_nonce), nonce});
        return {me.node, std::move(nonce), std::move(our_proof)};
      },
      [=](atoms::prove, const std::string& dialer, std::uint64_t incarnation,
          const std::string& address, const std::string& given, caf::actor& peer) -> prove_answer {
        auto from = sender_node(self);
        auto c = from ? take(self, *from) : std::nullopt;
        const auto& me = self->state.identity;
        if (!c || c->dialer != dialer || !peer ||
            !cluster::proofs_match(cluster::proof(self->state.secret, cluster::role::dialer, dialer,
                                                  c->dialer_nonce, c->nonce),
                                   given)) {
          self->state.log.warn(
              "cluster: refused node '{}' ({}): it did not prove it knows the cluster secret",
              log_text(dialer), log_text(address));
          return caf::sec::invalid_argument;
        }
        self->send(self->state.cluster, atoms::peer::value, peer, dialer, incarnation, address);
        return {caf::actor_cast<caf::actor>(self->state.cluster), me.incarnation, me.address};
      },
  };
}

}  // namespace

cluster_gate_actor spawn_cluster_gate(caf::actor_system& sys, cluster::node_identity self,
                                      std::string secret, cluster_actor cluster) {
  return sys.spawn(gate, std::move(self), std::move(secret), std::move(cluster));
}

}  // namespace beryl
