#pragma once

#include <boost/json/value.hpp>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"

// The message protocol of supervisors. Every request gets an answer (a value or a caf::error),
// and supervisors never bounce unknown messages back at their sender (they log and drop them).
namespace beryl::supervision {

/// (ready_atom) -> caf::ok_atom | caf::error
/// Answered once the supervisor has started all its children, or with the start error.
using ready_atom = caf::atom_constant<caf::atom("sup_ready")>;

/// (snapshot_atom) -> boost::json::value
/// The live tree below the supervisor, a JSON object (see README.md for the fields). Passed as a
/// value, not as text: only the HTTP edge serializes it. Local only (see below).
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;

/// (crash_atom, std::string child_name) -> caf::ok_atom | caf::error   [supervisor]
/// (crash_atom, caf::actor child)       -> caf::ok_atom | caf::error   [dynamic supervisor]
/// (crash_atom, caf::actor_id child)    -> caf::ok_atom | caf::error   [dynamic supervisor]
/// Makes the child exit with injected_crash(), which then takes the normal crash/restart path.
using crash_atom = caf::atom_constant<caf::atom("crash")>;

/// (start_child_atom, child_spec) -> caf::actor | caf::error   [dynamic supervisor]
using start_child_atom = caf::atom_constant<caf::atom("startchild")>;

/// (adopt_atom, std::string name, caf::actor child)                [dynamic supervisor]
/// Supervises a temporary child its caller has already spawned, without a round trip: the
/// caller goes on at once. A child that arrives while the supervisor is shutting down, or full,
/// is killed.
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;

}  // namespace beryl::supervision

// Snapshots travel between local actors only; boost::json::value has no inspect(), so it can
// never be serialized for the network. (boost::json::object cannot go into a CAF 0.17 message at
// all: CAF's to_string takes it for a map of std::pair and fails to compile.)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(boost::json::value)
