#include "supervision/registry.hpp"

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "caf/abstract_actor.hpp"
#include "caf/actor_addr.hpp"
#include "caf/actor_cast.hpp"

namespace beryl::supervision {

namespace {

using name_map = std::unordered_map<std::string, caf::actor_addr>;

// Keyed by the actor_system's address. Entries hold weak addresses and are erased when their
// actor terminates, so a system's map is empty by the time the system is gone and a later system
// at the same address starts with a clean slate.
struct name_table {
  std::shared_mutex mtx;
  std::unordered_map<const caf::actor_system*, name_map> systems;
};

name_table& table() {
  static name_table instance;
  return instance;
}

void erase_if_current(const caf::actor_system* sys, const std::string& name,
                      const caf::actor_addr& addr) {
  auto& t = table();
  std::unique_lock<std::shared_mutex> guard{t.mtx};
  auto names = t.systems.find(sys);
  if (names == t.systems.end()) return;
  auto entry = names->second.find(name);
  // A restart may already have pointed the name at the next incarnation.
  if (entry != names->second.end() && entry->second == addr) names->second.erase(entry);
  if (names->second.empty()) t.systems.erase(names);
}

}  // namespace

caf::actor lookup(caf::actor_system& sys, const std::string& name) {
  auto& t = table();
  std::shared_lock<std::shared_mutex> guard{t.mtx};
  auto names = t.systems.find(&sys);
  if (names == t.systems.end()) return {};
  auto entry = names->second.find(name);
  if (entry == names->second.end()) return {};
  return caf::actor_cast<caf::actor>(entry->second);
}

void register_name(caf::actor_system& sys, const std::string& name, const caf::actor& child) {
  if (!child) return;
  const caf::actor_system* key = &sys;
  auto addr = child.address();
  {
    auto& t = table();
    std::unique_lock<std::shared_mutex> guard{t.mtx};
    t.systems[key][name] = addr;
  }
  // Runs when the child terminates (at once if it already has), so the name never outlives the
  // incarnation, even before its supervisor has processed the exit.
  child->attach_functor(
      [key, name, addr](const caf::error&) { erase_if_current(key, name, addr); });
}

}  // namespace beryl::supervision
