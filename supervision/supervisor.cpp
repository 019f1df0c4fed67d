#include "supervision/supervisor.hpp"

#include "core/log_metadata.hpp"

#include <deque>
#include <functional>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>

#include "caf/all.hpp"

#include "supervision/child_ops.hpp"
#include "supervision/restart_intensity.hpp"
#include "supervision/tree_snapshot.hpp"

namespace beryl::supervision {

const char* to_string(restart_strategy strategy) {
  switch (strategy) {
    case restart_strategy::one_for_one:
      return "one_for_one";
    case restart_strategy::one_for_all:
      return "one_for_all";
    case restart_strategy::rest_for_one:
      return "rest_for_one";
  }
  return "unknown";
}

namespace {

// Messages a supervisor sends to itself.
using begin_atom = caf::atom_constant<caf::atom("sup_begin")>;
using retry_atom = caf::atom_constant<caf::atom("sup_retry")>;
using stop_timeout_atom = caf::atom_constant<caf::atom("sup_stopto")>;

enum class child_state : std::uint8_t { running, restarting, stopping, stopped };

const char* to_string(child_state state) {
  switch (state) {
    case child_state::running:
      return "running";
    case child_state::restarting:
      return "restarting";
    case child_state::stopping:
      return "stopping";
    case child_state::stopped:
      return "stopped";
  }
  return "unknown";
}

struct child_record {
  child_spec spec;
  // Strong handle: a child nobody holds a handle to would exit as `unreachable`.
  caf::actor handle;
  child_state state = child_state::stopped;
  std::size_t restarts = 0;
  caf::error last_exit_reason;
};

enum class phase : std::uint8_t { starting, running, shutting_down };

const char* to_string(phase p) {
  switch (p) {
    case phase::starting:
      return "starting";
    case phase::running:
      return "running";
    case phase::shutting_down:
      return "stopping";
  }
  return "unknown";
}

// A static supervisor: a fixed, ordered list of children.
//
// Everything that takes time (waiting for a child supervisor to start, stopping a child
// gracefully) is asynchronous, so the actor keeps answering snapshots meanwhile. Crashes that
// arrive while such an operation runs are deferred and handled once it is done, which gives the
// same order of events as an OTP supervisor blocked in a restart.
class supervisor_actor : public caf::event_based_actor {
 public:
  supervisor_actor(caf::actor_config& cfg, supervisor_flags flags, std::vector<child_spec> specs)
      : caf::event_based_actor(cfg),
        flags_(std::move(flags)),
        intensity_(flags_.max_restarts, flags_.within) {
    children_.reserve(specs.size());
    for (auto& spec : specs) {
      child_record record;
      record.spec = std::move(spec);
      children_.push_back(std::move(record));
    }
  }

  const char* name() const override { return "beryl.supervisor"; }

  caf::behavior make_behavior() override {
    detail::install_fallback_handlers(this, flags_.name);
    set_down_handler([this](caf::down_msg& msg) { on_down(msg); });
    set_exit_handler([this](caf::exit_msg& msg) { on_exit_signal(msg); });
    // Starting from a message keeps a failing start (and its quit()) out of make_behavior().
    send(this, begin_atom::value);
    return {
        [this](begin_atom) { start_next(); },
        [this](ready_atom) { return on_ready(); },
        [this](snapshot_atom) { return snapshot(); },
        [this](crash_atom, const std::string& child) { return inject_crash(child); },
        [this](retry_atom, std::size_t index) { on_retry(index); },
        [this](stop_timeout_atom, std::uint64_t token) { on_stop_timeout(token); },
    };
  }

 protected:
  void on_exit() override {
    // Children and waiters are only left here when we were killed; otherwise shutdown() has
    // stopped and answered them.
    for (auto& child : children_)
      if (child.handle) detail::kill_orphan(child.handle);
    children_.clear();
    for (auto& waiter : ready_waiters_)
      waiter.deliver(
          make_error(supervision_errc::not_running, "supervisor '" + flags_.name + "' was killed"));
    ready_waiters_.clear();
    stop_then_ = nullptr;
  }

 private:
  // -- start -----------------------------------------------------------------

  void start_next() {
    if (phase_ != phase::starting) return;
    while (next_start_ < children_.size()) {
      auto index = next_start_;
      auto& child = children_[index];
      auto started = detail::start_and_monitor(this, child.spec);
      if (!started) {
        fail_start(detail::describe(system(), started.error()));
        return;
      }
      child.handle = std::move(*started);
      child.state = child_state::running;
      if (child.spec.kind == child_kind::supervisor) {
        await_ready(index);
        return;
      }
      ++next_start_;
    }
    phase_ = phase::running;
    spdlog::info("supervisor '{}': started {} children ({})", flags_.name, children_.size(),
                 to_string(flags_.strategy));
    for (auto& waiter : ready_waiters_) waiter.deliver(caf::ok_atom::value);
    ready_waiters_.clear();
    process_deferred();
  }

  // A child supervisor counts as started once it has started its own children.
  void await_ready(std::size_t index) {
    awaiting_ready_ = index;
    request(children_[index].handle, caf::infinite, ready_atom::value)
        .then(
            [this, index](caf::ok_atom) {
              if (phase_ != phase::starting || awaiting_ready_ != index) return;
              awaiting_ready_.reset();
              ++next_start_;
              start_next();
            },
            [this, index](caf::error& err) {
              // It may have failed and exited before our request arrived; then the down_msg,
              // which always follows, carries the real reason.
              if (err != caf::sec::request_receiver_down) child_supervisor_failed(index, err);
            });
  }

  void child_supervisor_failed(std::size_t index, const caf::error& reason) {
    if (phase_ != phase::starting || awaiting_ready_ != index) return;
    fail_start("child '" + children_[index].spec.name +
               "' failed to start: " + detail::describe(system(), reason));
  }

  void fail_start(const std::string& what) {
    auto err = make_error(supervision_errc::start_failed,
                          "supervisor '" + flags_.name + "' could not start: " + what);
    spdlog::error("{}", detail::describe(system(), err));
    shutdown(std::move(err));
  }

  // Answered once all children run, or (with the error) once a failed start or a shutdown has
  // stopped the children again.
  caf::result<caf::ok_atom> on_ready() {
    if (phase_ == phase::running) return caf::ok_atom::value;
    auto promise = make_response_promise<caf::ok_atom>();
    ready_waiters_.push_back(promise);
    return promise;
  }

  // -- exits -----------------------------------------------------------------

  void on_down(caf::down_msg& msg) {
    auto index = find_child(msg.source);
    if (!index) return;  // an incarnation we already handled
    auto& child = children_[*index];
    child.handle = nullptr;
    child.last_exit_reason = msg.reason;
    if (child.state == child_state::stopping) {
      child_stopped(*index);
      return;
    }
    child.state = child_state::stopped;
    log_exit(child, msg.reason);
    if (phase_ == phase::shutting_down) return;  // a pending stop skips it
    if (phase_ == phase::starting && awaiting_ready_ == index) {
      child_supervisor_failed(*index, msg.reason);
      return;
    }
    if (busy()) {
      deferred_.emplace_back(*index, msg.reason);
      return;
    }
    handle_child_exit(*index, msg.reason);
  }

  // Nothing is linked to a supervisor unless its owner chose to, so an exit signal is a request to
  // stop: from the parent supervisor, from stop_supervisor(), or from a linked owner that died.
  void on_exit_signal(const caf::exit_msg& msg) {
    if (!msg.reason) return;  // like any actor, a supervisor ignores a normal exit signal
    spdlog::info("supervisor '{}': shutting down: {}", flags_.name,
                 detail::describe(system(), msg.reason));
    shutdown(msg.reason);
  }

  void log_exit(const child_record& child, const caf::error& reason) {
    log_metadata_scope about(log_child(child.spec.name));
    if (is_abnormal(reason))
      spdlog::warn(
          "supervisor '{}': child '{}' terminated abnormally: {} ({}, restarted {} times so far)",
          flags_.name, child.spec.name, system().render(reason), to_string(child.spec.restart),
          child.restarts);
    else
      spdlog::info("supervisor '{}': child '{}' exited: {} ({})", flags_.name, child.spec.name,
                   system().render(reason), to_string(child.spec.restart));
  }

  void handle_child_exit(std::size_t index, const caf::error& reason) {
    auto& child = children_[index];
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
    child.state = child_state::restarting;
    restart(index, reason);
  }

  void give_up(const child_record& child, const caf::error& reason) {
    shutdown(detail::give_up(system(), "supervisor", flags_.name, flags_.max_restarts,
                             flags_.within, child.spec.name, reason));
  }

  // -- restarts --------------------------------------------------------------

  void restart(std::size_t index, const caf::error& reason) {
    auto first = index;
    auto last = index + 1;
    if (flags_.strategy == restart_strategy::one_for_all) first = 0;
    if (flags_.strategy != restart_strategy::one_for_one) last = children_.size();
    std::vector<std::size_t> to_stop;
    for (auto i = last; i-- > first;)
      if (children_[i].state == child_state::running) to_stop.push_back(i);
    stop_children(std::move(to_stop),
                  [this, first, last, index, reason] { start_range(first, last, index, reason); });
  }

  // Starts the stopped children in [first, last) in order; `cause` is the child whose exit
  // triggered the restart.
  void start_range(std::size_t first, std::size_t last, std::size_t cause,
                   const caf::error& reason) {
    for (auto i = first; i < last; ++i) {
      auto& child = children_[i];
      if (child.state == child_state::running) continue;
      // As in OTP, temporary siblings stopped for a group restart stay stopped.
      if (i != cause && child.spec.restart == restart_type::temporary) continue;
      ++child.restarts;
      auto started = detail::start_and_monitor(this, child.spec);
      if (!started) {
        // Retried through the mailbox as a new crash, so repeated failures hit the intensity
        // limit instead of looping here.
        child.state = child_state::restarting;
        child.last_exit_reason = started.error();
        log_metadata_scope about(log_child(child.spec.name));
        spdlog::error("supervisor '{}': restart #{} of child '{}' failed: {}", flags_.name,
                      child.restarts, child.spec.name, detail::describe(system(), started.error()));
        detail::report_restart(system(), flags_.name, child.spec.name, reason, "restart failed");
        send(this, retry_atom::value, i);
        return;
      }
      child.handle = std::move(*started);
      child.state = child_state::running;
      log_metadata_scope about(log_child(child.spec.name));
      spdlog::warn(
          "supervisor '{}': restarted child '{}' (restart #{}, {} after child '{}' exited "
          "with {})",
          flags_.name, child.spec.name, child.restarts, to_string(flags_.strategy),
          children_[cause].spec.name, system().render(reason));
      detail::report_restart(system(), flags_.name, child.spec.name, reason, "restarted");
    }
  }

  void on_retry(std::size_t index) {
    auto& child = children_[index];
    if (phase_ != phase::running || child.state != child_state::restarting) return;
    if (busy()) {
      deferred_.emplace_back(index, child.last_exit_reason);
      return;
    }
    handle_child_exit(index, child.last_exit_reason);
  }

  bool busy() const { return phase_ != phase::running || stopping_; }

  void process_deferred() {
    while (!busy() && !deferred_.empty()) {
      auto [index, reason] = std::move(deferred_.front());
      deferred_.pop_front();
      // Restarted along with its siblings in the meantime: nothing left to do.
      if (children_[index].state == child_state::running) continue;
      handle_child_exit(index, reason);
    }
  }

  // -- stopping --------------------------------------------------------------

  void shutdown(caf::error reason) {
    if (phase_ == phase::shutting_down) return;
    phase_ = phase::shutting_down;
    exit_reason_ = std::move(reason);
    awaiting_ready_.reset();
    deferred_.clear();
    std::vector<std::size_t> order;
    for (auto i = children_.size(); i-- > 0;)
      if (children_[i].state == child_state::running) order.push_back(i);
    stop_children(std::move(order), [this] {
      for (auto& waiter : ready_waiters_) waiter.deliver(exit_reason_);
      ready_waiters_.clear();
      quit(exit_reason_);
    });
  }

  // Stops the children one by one in the given order, then runs `then`. A call while a sequence
  // is running replaces the rest of it (the child being stopped right now finishes first).
  void stop_children(std::vector<std::size_t> order, std::function<void()> then) {
    stop_queue_.assign(order.begin(), order.end());
    stop_then_ = std::move(then);
    stopping_ = true;
    if (!current_stop_) stop_next();
  }

  void stop_next() {
    while (!stop_queue_.empty()) {
      auto index = stop_queue_.front();
      stop_queue_.pop_front();
      if (children_[index].state != child_state::running) continue;  // ended by itself
      begin_stop(index);
      return;
    }
    stopping_ = false;
    auto then = std::move(stop_then_);
    stop_then_ = nullptr;
    then();
    process_deferred();
  }

  void begin_stop(std::size_t index) {
    auto& child = children_[index];
    child.state = child_state::stopping;
    current_stop_ = index;
    auto token = ++stop_token_;
    detail::send_shutdown(this, child.handle, child.spec.shutdown);
    const auto& policy = child.spec.shutdown;
    if (!policy.is_brutal_kill() && !policy.is_infinity())
      delayed_send(this, policy.timeout(), stop_timeout_atom::value, token);
  }

  void child_stopped(std::size_t index) {
    auto& child = children_[index];
    child.state = child_state::stopped;
    {
      log_metadata_scope about(log_child(child.spec.name));
      spdlog::info("supervisor '{}': stopped child '{}': {}", flags_.name, child.spec.name,
                   system().render(child.last_exit_reason));
    }
    if (current_stop_ != index) return;
    current_stop_.reset();
    stop_next();
  }

  void on_stop_timeout(std::uint64_t token) {
    if (!current_stop_ || token != stop_token_) return;
    auto& child = children_[*current_stop_];
    log_metadata_scope about(log_child(child.spec.name));
    spdlog::warn("supervisor '{}': child '{}' did not stop within {} ms, killing it", flags_.name,
                 child.spec.name, detail::to_millis(child.spec.shutdown.timeout()));
    send_exit(child.handle, caf::exit_reason::kill);
  }

  // -- operator tools --------------------------------------------------------

  caf::result<caf::ok_atom> inject_crash(const std::string& name) {
    auto index = find_child(name);
    if (!index)
      return make_error(supervision_errc::no_such_child,
                        "supervisor '" + flags_.name + "' has no child '" + name + "'");
    auto& child = children_[*index];
    if (child.state != child_state::running)
      return make_error(supervision_errc::not_running,
                        "child '" + name + "' is " + to_string(child.state));
    log_metadata_scope about(log_child(name));
    spdlog::warn("supervisor '{}': injecting a crash into child '{}'", flags_.name, name);
    send_exit(child.handle, injected_crash());
    return caf::ok_atom::value;
  }

  caf::result<boost::json::value> snapshot() {
    boost::json::object node;
    node["name"] = flags_.name;
    node["kind"] = "supervisor";
    node["strategy"] = to_string(flags_.strategy);
    node["state"] = to_string(phase_);
    node["restarts"] = 0;
    node["last_exit_reason"] = nullptr;
    node["max_restarts"] = flags_.max_restarts;
    node["within_ms"] = detail::to_millis(flags_.within);
    // Our own mailbox only: reading another actor's mailbox is not thread-safe in CAF 0.17.
    node["mailbox_size"] = mailbox().size();
    std::vector<detail::snapshot_entry> entries;
    entries.reserve(children_.size());
    for (auto& child : children_) {
      boost::json::object entry;
      entry["name"] = child.spec.name;
      entry["kind"] = to_string(child.spec.kind);
      entry["restart"] = to_string(child.spec.restart);
      entry["state"] = to_string(child.state);
      entry["restarts"] = child.restarts;
      entry["last_exit_reason"] = detail::reason_to_json(system(), child.last_exit_reason);
      if (child.handle) entry["id"] = child.handle.id();
      bool ask = child.spec.kind == child_kind::supervisor && child.state == child_state::running;
      entries.push_back({std::move(entry), ask ? child.handle : caf::actor{}});
    }
    return detail::answer_snapshot(this, std::move(node), std::move(entries));
  }

  // -- lookup ----------------------------------------------------------------

  std::optional<std::size_t> find_child(const caf::actor_addr& addr) const {
    for (std::size_t i = 0; i < children_.size(); ++i)
      if (children_[i].handle && children_[i].handle.address() == addr) return i;
    return std::nullopt;
  }

  std::optional<std::size_t> find_child(const std::string& name) const {
    for (std::size_t i = 0; i < children_.size(); ++i)
      if (children_[i].spec.name == name) return i;
    return std::nullopt;
  }

  supervisor_flags flags_;
  restart_intensity intensity_;
  std::vector<child_record> children_;
  phase phase_ = phase::starting;
  caf::error exit_reason_;

  // Start.
  std::size_t next_start_ = 0;
  std::optional<std::size_t> awaiting_ready_;
  std::vector<caf::typed_response_promise<caf::ok_atom>> ready_waiters_;

  // Stop sequence.
  bool stopping_ = false;
  std::deque<std::size_t> stop_queue_;
  std::optional<std::size_t> current_stop_;
  std::uint64_t stop_token_ = 0;  // tells a stale stop timeout from the current one
  std::function<void()> stop_then_;

  // Child exits that arrived while busy: (index, reason).
  std::deque<std::pair<std::size_t, caf::error>> deferred_;
};

}  // namespace

caf::expected<caf::actor> start_supervisor(caf::actor_system& sys, supervisor_flags flags,
                                           std::vector<child_spec> children,
                                           caf::timespan timeout) {
  auto name = flags.name;
  auto sup = sys.spawn<supervisor_actor>(std::move(flags), std::move(children));
  caf::scoped_actor self{sys};
  self->monitor(sup);
  caf::error failure;
  self->request(sup, timeout, ready_atom::value)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { failure = std::move(err); });
  if (!failure) {
    self->demonitor(sup);
    return sup;
  }
  if (failure == caf::sec::request_receiver_down) {
    // A start that failed fast can finish before our request arrives; its exit reason is the
    // start error.
    self->receive([&](caf::down_msg& msg) { failure = std::move(msg.reason); },
                  caf::after(timeout) >> [] {});
  } else if (failure == caf::sec::request_timeout) {
    // A killed supervisor kills its remaining children (on_exit), so the partial tree goes down.
    self->send_exit(sup, caf::exit_reason::kill);
    failure = make_error(supervision_errc::start_timeout,
                         "supervisor '" + name + "' did not start within " +
                             std::to_string(detail::to_millis(timeout)) + " ms");
  }
  return failure;
}

child_spec supervisor_spec(supervisor_flags flags, std::vector<child_spec> children) {
  child_spec spec;
  spec.name = flags.name;
  spec.kind = child_kind::supervisor;
  spec.shutdown = shutdown_policy::infinity();
  spec.start = [flags = std::move(flags),
                children = std::move(children)](caf::local_actor* parent) {
    return parent->spawn<supervisor_actor>(flags, children);
  };
  return spec;
}

}  // namespace beryl::supervision
