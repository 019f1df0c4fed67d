#pragma once

// Helpers shared by the supervision_*.cpp tests: a per-test actor system, workers that record
// their starts and exits, a spdlog capture, and bounded waits.

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "caf/all.hpp"

#include "supervision/blocking.hpp"
#include "supervision/dynamic_supervisor.hpp"
#include "supervision/supervisor.hpp"

namespace sup_test {

using namespace std::chrono_literals;
namespace sv = beryl::supervision;

using fail_atom = caf::atom_constant<caf::atom("t_fail")>;      // the worker throws
using finish_atom = caf::atom_constant<caf::atom("t_finish")>;  // the worker quits normally

/// Thread-safe record of what happened, in order: "start:a", "stop:a", ...
class event_log {
 public:
  void started(const std::string& name, caf::actor_id id) {
    std::lock_guard<std::mutex> guard{mtx_};
    events_.push_back("start:" + name);
    ids_[name].push_back(id);
  }

  void stopped(const std::string& name, const caf::error& reason) {
    std::lock_guard<std::mutex> guard{mtx_};
    events_.push_back("stop:" + name);
    reasons_[name] = reason;
  }

  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return events_;
  }

  /// Events starting with `prefix` ("stop:"), in order.
  std::vector<std::string> only(const std::string& prefix) const {
    std::vector<std::string> result;
    for (auto& e : events())
      if (e.rfind(prefix, 0) == 0) result.push_back(e);
    return result;
  }

  /// Actor ids of every incarnation of `name`, oldest first.
  std::vector<caf::actor_id> ids(const std::string& name) const {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = ids_.find(name);
    return i == ids_.end() ? std::vector<caf::actor_id>{} : i->second;
  }

  std::size_t incarnations(const std::string& name) const { return ids(name).size(); }

  /// The exit reason of the last incarnation of `name` that stopped.
  caf::error last_reason(const std::string& name) const {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = reasons_.find(name);
    return i == reasons_.end() ? caf::error{} : i->second;
  }

 private:
  mutable std::mutex mtx_;
  std::vector<std::string> events_;
  std::map<std::string, std::vector<caf::actor_id>> ids_;
  std::map<std::string, caf::error> reasons_;
};

/// Collects what the library logs (and keeps it off the test output).
class capture_sink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /// True if one captured line contains all of `parts`.
  bool has_line_with(std::initializer_list<std::string> parts) {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto& line : lines_) {
      bool all = true;
      for (auto& part : parts) all = all && line.find(part) != std::string::npos;
      if (all) return true;
    }
    return false;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

/// Routes spdlog's default logger into a capture_sink for the lifetime of this object. Set
/// BERYL_TEST_LOG=1 to see the lines on stderr as well.
class log_capture {
 public:
  log_capture() : sink_(std::make_shared<capture_sink>()), previous_(spdlog::default_logger()) {
    std::vector<spdlog::sink_ptr> sinks{sink_};
    if (std::getenv("BERYL_TEST_LOG") != nullptr)
      sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    auto logger = std::make_shared<spdlog::logger>("supervision-test", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(std::move(logger));
  }
  ~log_capture() { spdlog::set_default_logger(previous_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  bool has_line_with(std::initializer_list<std::string> parts) {
    return sink_->has_line_with(parts);
  }

 private:
  std::shared_ptr<capture_sink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

inline caf::actor_system_config& configure(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", 2);
  sv::add_error_category(cfg);
  return cfg;
}

/// One actor system per test. Supervisors listed in `roots` are killed on the way out, so a test
/// that fails half-way still lets the actor_system destructor (which waits for all actors) finish.
struct fixture {
  log_capture logs;  // declared first: outlives every actor
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<event_log> events = std::make_shared<event_log>();
  std::vector<caf::actor> roots;

  fixture() : sys(configure(cfg)) {}
  ~fixture() {
    for (auto& root : roots) caf::anon_send_exit(root, caf::exit_reason::kill);
  }
  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  /// start_supervisor that REQUIREs success and remembers the root for cleanup.
  caf::actor start(sv::supervisor_flags flags, std::vector<sv::child_spec> children) {
    auto sup = sv::start_supervisor(sys, std::move(flags), std::move(children), 10s);
    REQUIRE_MESSAGE(sup, sys.render(sup.error()));
    roots.push_back(*sup);
    return *sup;
  }

  caf::actor start_dynamic(sv::dynamic_supervisor_flags flags) {
    auto sup = sv::start_dynamic_supervisor(sys, std::move(flags));
    roots.push_back(sup);
    return sup;
  }

  /// The supervisor's snapshot. Also a barrier: the supervisor has handled every message that
  /// reached it before this request.
  boost::json::object snapshot(const caf::actor& sup) {
    auto json = sv::snapshot(sys, sup, 5s);
    REQUIRE_MESSAGE(json, sys.render(json.error()));
    REQUIRE(json->is_object());
    return std::move(json->as_object());
  }
};

/// A worker that records its start and exit. (fail_atom) makes it throw, (finish_atom) makes it
/// quit normally, (caf::get_atom) answers its actor id.
inline caf::behavior test_worker(caf::event_based_actor* self, std::shared_ptr<event_log> log,
                                 std::string name) {
  // Without this, CAF prints unhandled exceptions to stdout; the exit reason stays the same.
  self->set_exception_handler([](std::exception_ptr&) -> caf::error {
    return caf::make_error(caf::sec::runtime_error, "test failure");
  });
  self->attach_functor([log, name](const caf::error& reason) { log->stopped(name, reason); });
  return {
      [](fail_atom) { throw std::runtime_error("test failure"); },
      [self](finish_atom) { self->quit(); },
      [self](caf::get_atom) { return self->id(); },
  };
}

/// A start function for test_worker that logs "start:<name>" with the new actor's id.
inline sv::start_function worker_start(std::shared_ptr<event_log> log, std::string name) {
  return [log, name](caf::local_actor* parent) {
    auto child = parent->spawn(test_worker, log, name);
    log->started(name, child.id());
    return child;
  };
}

/// A registered test worker (so tests can reach the current incarnation with lookup()).
inline sv::child_spec worker(std::shared_ptr<event_log> log, const std::string& name,
                             sv::restart_type restart = sv::restart_type::permanent) {
  auto spec = sv::worker_spec(name, worker_start(std::move(log), name), restart);
  spec.registered = true;
  return spec;
}

/// A worker that traps exits and ignores them all, so only a kill stops it.
inline sv::child_spec stubborn_child(std::shared_ptr<event_log> log, const std::string& name,
                                     sv::shutdown_policy policy) {
  auto spec = sv::worker_spec(name, [log, name](caf::local_actor* parent) {
    auto child = parent->spawn([log, name](caf::event_based_actor* self) -> caf::behavior {
      self->set_exit_handler([](caf::exit_msg&) {});
      self->attach_functor([log, name](const caf::error& reason) { log->stopped(name, reason); });
      return {[](caf::get_atom) { return 0; }};
    });
    log->started(name, child.id());
    return child;
  });
  spec.shutdown = policy;
  return spec;
}

/// Polls `done` every 5 ms until it holds or `timeout` passes.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// Waits up to `timeout` for `whom` to terminate; `down` tells whether it did.
struct down_result {
  bool down = false;
  caf::error reason;
};

inline down_result wait_down(caf::actor_system& sys, const caf::actor& whom,
                             caf::timespan timeout = std::chrono::seconds(5)) {
  down_result result;
  caf::scoped_actor self{sys};
  self->monitor(whom);
  self->receive(
      [&](caf::down_msg& msg) {
        result.down = true;
        result.reason = std::move(msg.reason);
      },
      caf::after(timeout) >> [] {});
  return result;
}

/// A child of `obj` by name in a snapshot.
inline const boost::json::object& child_node(const boost::json::object& obj,
                                             const std::string& name) {
  for (auto& child : obj.at("children").as_array())
    if (child.as_object().at("name").as_string() == name) return child.as_object();
  FAIL("no child named " << name);
  throw std::logic_error("unreachable");
}

inline std::string str(const boost::json::value& v) {
  return v.is_string() ? std::string{v.as_string().c_str()} : boost::json::serialize(v);
}

}  // namespace sup_test
