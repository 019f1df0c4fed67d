#pragma once
// The cluster's published gate (cluster_gate_actor in cluster.hpp): the only actor a node that
// has not proved it knows the secret can reach.
#include "actors/cluster.hpp"

#include <caf/actor_system.hpp>

#include <cstdint>
#include <string>

namespace beryl {

// `self` is who this node is, as the gate tells the dialers it admits; admitted dialers are
// handed to `cluster` (atoms::peer), which gets linked to the gate.
cluster_gate_actor spawn_cluster_gate(caf::actor_system& sys, cluster::node_identity self,
                                      std::string secret, cluster_actor cluster);

}  // namespace beryl
