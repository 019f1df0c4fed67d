#pragma once
// The cluster's published gate (cluster_gate_actor in cluster.hpp): the only actor a node that
// has not proved it knows the secret can reach.
#include "actors/cluster.hpp"

#include <caf/actor_system.hpp>

#include <cstdint>
#include <string>

namespace beryl {

// Who this node is, as the gate tells dialers it admits.
struct gate_identity {
  std::string node;
  std::uint64_t incarnation = 0;
  std::string address;
  std::string secret;
};

// Admitted dialers are handed to `cluster` (atoms::peer), which gets linked to the gate.
cluster_gate_actor spawn_cluster_gate(caf::actor_system& sys, gate_identity self,
                                      cluster_actor cluster);

}  // namespace beryl
