#pragma once

#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

// Names for supervised children that survive restarts. CAF's own registry is keyed by atoms
// (10 characters at most), so names like "coordinator" need this one. It is a mutex-guarded table
// per actor_system, safe to use from any thread, actors included (lookups never block on actors).
namespace beryl::supervision {

/// The current incarnation of the child registered as `name`, or an invalid handle when there is
/// none (never started, between a crash and its restart, or stopped).
caf::actor lookup(caf::actor_system& sys, const std::string& name);

/// Points `name` at `child` until `child` terminates. Supervisors call this on every (re)start of
/// a child whose spec says `registered`; a later registration of the same name replaces this one.
void register_name(caf::actor_system& sys, const std::string& name, const caf::actor& child);

}  // namespace beryl::supervision
