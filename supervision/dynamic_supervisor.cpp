#include "supervision/dynamic_supervisor.hpp"

#include "core/log_limiter.hpp"
#include "core/log_metadata.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <set>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "caf/all.hpp"

#include "supervision/child_ops.hpp"
#include "supervision/restart_intensity.hpp"
#include "supervision/tree_snapshot.hpp"

namespace beryl::supervision {

namespace {

// Messages a dynamic supervisor sends to itself.
using retry_atom = caf::atom_constant<caf::atom("dyn_retry")>;
using stop_timeout_atom = caf::atom_constant<caf::atom("dyn_stopto")>;

// Kept small: there may be tens of thousands of these.
struct dynamic_child {
  child_spec spec;  // without its start function if temporary: it will never be needed
  caf::actor handle;
  std::uint32_t restarts = 0;
  bool stopping = false;
};

// A child whose restart failed, waiting for its retry message.
struct pending_restart {
  dynamic_child child;
  caf::error reason;
};

struct crash_note {
  std::string child;
  std::string reason;
};

constexpr std::size_t recent_crash_limit = 10;

class dynamic_supervisor_actor : public caf::event_based_actor {
 public:
  dynamic_supervisor_actor(caf::actor_config& cfg, dynamic_supervisor_flags flags)
      : caf::event_based_actor(cfg),
        flags_(std::move(flags)),
        intensity_(flags_.max_restarts, flags_.within) {}

  const char* name() const override { return "beryl.dynamic_supervisor"; }

  caf::behavior make_behavior() override {
    detail::install_fallback_handlers(this, flags_.name);
    set_down_handler([this](caf::down_msg& msg) { on_down(msg); });
    set_exit_handler([this](caf::exit_msg& msg) { on_exit_signal(msg); });
    return {
        [this](ready_atom) -> caf::result<caf::ok_atom> {
          if (shutting_down_) return exit_reason_;
          return caf::ok_atom::value;
        },
        [this](start_child_atom, child_spec& spec) { return start_child(std::move(spec)); },
        [this](adopt_atom, std::string& name, const caf::actor& child) {
          adopt(std::move(name), child);
        },
        [this](crash_atom, const caf::actor& child) { return inject_crash(child); },
        // By the id its snapshot shows, for operators (POST /debug/crash, the dashboard).
        [this](crash_atom, caf::actor_id id) { return inject_crash(child_by_id(id)); },
        [this](snapshot_atom) { return snapshot(); },
        [this](retry_atom, std::uint64_t id) { on_retry(id); },
        [this](stop_timeout_atom, caf::timespan elapsed) { kill_stragglers(elapsed); },
    };
  }

 protected:
  void on_exit() override {
    // Children are only left here when we were killed; otherwise shutdown() has stopped them.
    for (auto& entry : children_) detail::kill_orphan(entry.second.handle);
    children_.clear();
    retrying_.clear();
  }

 private:
  // -- starting --------------------------------------------------------------

  void adopt(std::string name, const caf::actor& child) {
    if (shutting_down_ ||
        (flags_.max_children > 0 && children_.size() + retrying_.size() >= flags_.max_children)) {
      log_metadata_scope about(log_child(name));
      spdlog::warn("dynamic supervisor '{}': cannot adopt '{}' ({}), killing it", flags_.name, name,
                   shutting_down_ ? "shutting down" : "full");
      detail::kill_orphan(child);
      return;
    }
    monitor(child);  // a child already gone is reported at once, and found in children_ then
    ++started_total_;
    auto spec = worker_spec(std::move(name), nullptr, restart_type::temporary);
    children_.emplace(child.id(), dynamic_child{std::move(spec), child});
  }

  caf::result<caf::actor> start_child(child_spec spec) {
    if (shutting_down_)
      return make_error(supervision_errc::not_running,
                        "dynamic supervisor '" + flags_.name + "' is shutting down");
    if (flags_.max_children > 0 && children_.size() + retrying_.size() >= flags_.max_children)
      return make_error(supervision_errc::max_children_reached,
                        "dynamic supervisor '" + flags_.name + "' already has " +
                            std::to_string(flags_.max_children) + " children");
    auto started = detail::start_and_monitor(this, spec);
    if (!started) {
      spdlog::warn("dynamic supervisor '{}': {}", flags_.name,
                   detail::describe(system(), started.error()));
      return std::move(started.error());
    }
    ++started_total_;
    if (spec.restart == restart_type::temporary) spec.start = nullptr;
    auto handle = std::move(*started);
    children_.emplace(handle.id(), dynamic_child{std::move(spec), handle});
    return handle;
  }

  // -- exits -----------------------------------------------------------------

  void on_down(caf::down_msg& msg) {
    auto entry = children_.find(msg.source.id());
    if (entry == children_.end()) return;
    auto child = std::move(entry->second);
    children_.erase(entry);
    if (child.stopping) {
      quit_when_empty();
      return;
    }
    const auto& reason = msg.reason;
    if (is_abnormal(reason)) {
      ++crashed_total_;
      remember_crash(child, reason);
      log_crash(child, msg.source.id(), reason);
    } else {
      ++exited_total_;
    }
    if (!should_restart(child.spec.restart, reason)) {
      detail::report_crash(system(), flags_.name, child.spec.name, reason, "none");
      return;
    }
    if (!intensity_.record(restart_intensity::clock::now())) {
      detail::report_crash(system(), flags_.name, child.spec.name, reason, "give up");
      give_up(child, reason);
      return;
    }
    detail::report_crash(system(), flags_.name, child.spec.name, reason, "restart");
    restart(std::move(child), reason);
  }

  // A request to stop (see supervisor.cpp).
  void on_exit_signal(const caf::exit_msg& msg) {
    if (!msg.reason) return;  // like any actor, a supervisor ignores a normal exit signal
    spdlog::info("dynamic supervisor '{}': shutting down: {}", flags_.name,
                 detail::describe(system(), msg.reason));
    shutdown(msg.reason);
  }

  void remember_crash(const dynamic_child& child, const caf::error& reason) {
    if (recent_crashes_.size() == recent_crash_limit) recent_crashes_.pop_front();
    recent_crashes_.push_back({child.spec.name, system().render(reason)});
  }

  void restart(dynamic_child child, const caf::error& reason) {
    ++child.restarts;
    ++restarts_total_;
    auto started = detail::start_and_monitor(this, child.spec);
    if (!started) {
      {
        log_metadata_scope about(log_child(child.spec.name));
        spdlog::error("dynamic supervisor '{}': restart #{} of child '{}' failed: {}", flags_.name,
                      child.restarts, child.spec.name, detail::describe(system(), started.error()));
      }
      detail::report_restart(system(), flags_.name, child.spec.name, reason, "restart failed");
      // Retried through the mailbox, so repeated failures hit the intensity limit.
      auto id = ++retry_seq_;
      retrying_.emplace(id, pending_restart{std::move(child), started.error()});
      send(this, retry_atom::value, id);
      return;
    }
    child.handle = std::move(*started);
    {
      log_metadata_scope about(log_child(child.spec.name));
      spdlog::warn("dynamic supervisor '{}': restarted child '{}' (restart #{}) after {}",
                   flags_.name, child.spec.name, child.restarts, system().render(reason));
    }
    detail::report_restart(system(), flags_.name, child.spec.name, reason, "restarted");
    auto id = child.handle.id();
    children_.emplace(id, std::move(child));
  }

  void on_retry(std::uint64_t id) {
    auto entry = retrying_.find(id);
    if (entry == retrying_.end()) return;
    auto pending = std::move(entry->second);
    retrying_.erase(entry);
    if (!intensity_.record(restart_intensity::clock::now())) {
      give_up(pending.child, pending.reason);
      return;
    }
    restart(std::move(pending.child), pending.reason);
  }

  void give_up(const dynamic_child& child, const caf::error& reason) {
    shutdown(detail::give_up(system(), "dynamic supervisor", flags_.name, flags_.max_restarts,
                             flags_.within, child.spec.name, reason));
  }

  // -- stopping --------------------------------------------------------------

  void shutdown(caf::error reason) {
    if (shutting_down_) return;
    shutting_down_ = true;
    exit_reason_ = std::move(reason);
    retrying_.clear();
    spdlog::info("dynamic supervisor '{}': stopping {} children", flags_.name, children_.size());
    // One timer per distinct graceful timeout, not one per child.
    std::set<caf::timespan> timeouts;
    for (auto& entry : children_) {
      auto& child = entry.second;
      child.stopping = true;
      detail::send_shutdown(this, child.handle, child.spec.shutdown);
      const auto& policy = child.spec.shutdown;
      if (!policy.is_brutal_kill() && !policy.is_infinity()) timeouts.insert(policy.timeout());
    }
    for (auto timeout : timeouts) delayed_send(this, timeout, stop_timeout_atom::value, timeout);
    quit_when_empty();
  }

  void kill_stragglers(caf::timespan elapsed) {
    std::size_t killed = 0;
    for (auto& entry : children_) {
      auto& child = entry.second;
      const auto& policy = child.spec.shutdown;
      if (policy.is_brutal_kill() || policy.is_infinity() || policy.timeout() > elapsed) continue;
      send_exit(child.handle, caf::exit_reason::kill);
      ++killed;
    }
    if (killed > 0)
      spdlog::warn("dynamic supervisor '{}': killed {} children that did not stop within {} ms",
                   flags_.name, killed, detail::to_millis(elapsed));
  }

  void quit_when_empty() {
    if (shutting_down_ && children_.empty()) quit(exit_reason_);
  }

  // -- operator tools --------------------------------------------------------

  caf::actor child_by_id(caf::actor_id id) const {
    auto entry = children_.find(id);
    return entry == children_.end() ? nullptr : entry->second.handle;
  }

  caf::result<caf::ok_atom> inject_crash(const caf::actor& target) {
    auto entry = target ? children_.find(target.id()) : children_.end();
    if (entry == children_.end() || entry->second.stopping)
      return make_error(supervision_errc::no_such_child,
                        "dynamic supervisor '" + flags_.name + "' has no such running child");
    log_metadata_scope about(log_child(entry->second.spec.name));
    spdlog::warn("dynamic supervisor '{}': injecting a crash into child '{}' (#{})", flags_.name,
                 entry->second.spec.name, target.id());
    send_exit(target, injected_crash());
    return caf::ok_atom::value;
  }

  caf::result<boost::json::value> snapshot() {
    boost::json::object node;
    node["name"] = flags_.name;
    node["kind"] = "dynamic_supervisor";
    node["state"] = shutting_down_ ? "stopping" : "running";
    node["restarts"] = 0;
    node["last_exit_reason"] = nullptr;
    node["max_restarts"] = flags_.max_restarts;
    node["within_ms"] = detail::to_millis(flags_.within);
    node["max_children"] = flags_.max_children;
    // Our own mailbox only: reading another actor's mailbox is not thread-safe in CAF 0.17.
    node["mailbox_size"] = mailbox().size();
    node["active"] = children_.size();
    node["restarting"] = retrying_.size();
    node["started"] = started_total_;
    node["crashed"] = crashed_total_;
    node["exited"] = exited_total_;
    node["child_restarts"] = restarts_total_;
    boost::json::array crashes;
    for (auto& note : recent_crashes_)
      crashes.push_back(boost::json::object{{"child", note.child}, {"reason", note.reason}});
    node["recent_crashes"] = std::move(crashes);
    auto listed = std::min(children_.size(), flags_.snapshot_limit);
    node["children_listed"] = listed;
    std::vector<detail::snapshot_entry> entries;
    entries.reserve(listed);
    for (auto& entry : children_) {
      if (entries.size() == listed) break;
      auto& child = entry.second;
      boost::json::object item;
      item["name"] = child.spec.name;
      item["kind"] = to_string(child.spec.kind);
      item["restart"] = to_string(child.spec.restart);
      item["state"] = child.stopping ? "stopping" : "running";
      item["restarts"] = child.restarts;
      item["last_exit_reason"] = nullptr;
      item["id"] = child.handle.id();
      bool ask = child.spec.kind == child_kind::supervisor && !child.stopping;
      entries.push_back({std::move(item), ask ? child.handle : caf::actor{}});
    }
    return detail::answer_snapshot(this, std::move(node), std::move(entries));
  }

  // Clients can make channels crash at will (a join and a bad message, again and again): the
  // crash lines are rate-limited, and the counts and recent crashes still see every one.
  void log_crash(const dynamic_child& child, caf::actor_id id, const caf::error& reason) {
    auto held_back = crash_log_.admit(log_lines_per_source, log_limiter::clock::now());
    if (!held_back) return;
    log_metadata_scope about(log_child(child.spec.name));
    spdlog::warn(
        "dynamic supervisor '{}': child '{}' (#{}) terminated abnormally: {} ({}, restarted {} "
        "times so far){}",
        flags_.name, child.spec.name, id, system().render(reason), to_string(child.spec.restart),
        child.restarts, *held_back ? fmt::format(" ({} similar suppressed)", *held_back) : "");
  }

  dynamic_supervisor_flags flags_;
  restart_intensity intensity_;
  log_limiter crash_log_{log_lines_per_source, log_limiter::clock::now()};
  // By actor id, whose hash std::unordered_map does not store: 16 B less per child than by address.
  std::unordered_map<caf::actor_id, dynamic_child> children_;
  std::unordered_map<std::uint64_t, pending_restart> retrying_;
  std::uint64_t retry_seq_ = 0;
  bool shutting_down_ = false;
  caf::error exit_reason_;

  // Counters over the supervisor's lifetime.
  std::uint64_t started_total_ = 0;
  std::uint64_t crashed_total_ = 0;
  std::uint64_t exited_total_ = 0;
  std::uint64_t restarts_total_ = 0;
  std::deque<crash_note> recent_crashes_;
};

}  // namespace

caf::actor start_dynamic_supervisor(caf::actor_system& sys, dynamic_supervisor_flags flags) {
  return sys.spawn<dynamic_supervisor_actor>(std::move(flags));
}

child_spec dynamic_supervisor_spec(dynamic_supervisor_flags flags) {
  child_spec spec;
  spec.name = flags.name;
  spec.kind = child_kind::supervisor;
  spec.shutdown = shutdown_policy::infinity();
  spec.start = [flags = std::move(flags)](caf::local_actor* parent) {
    return parent->spawn<dynamic_supervisor_actor>(flags);
  };
  return spec;
}

}  // namespace beryl::supervision
