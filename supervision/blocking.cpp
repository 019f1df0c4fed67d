#include "supervision/blocking.hpp"

#include "caf/all.hpp"

#include "supervision/messages.hpp"

namespace beryl::supervision {

caf::expected<caf::actor> start_child(caf::actor_system& sys, const caf::actor& dyn_sup,
                                      child_spec spec, caf::timespan timeout) {
  caf::scoped_actor self{sys};
  caf::expected<caf::actor> result{caf::actor{}};
  self->request(dyn_sup, timeout, start_child_atom::value, std::move(spec))
      .receive([&](caf::actor& child) { result = std::move(child); },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<boost::json::value> snapshot(caf::actor_system& sys, const caf::actor& sup,
                                           caf::timespan timeout) {
  caf::scoped_actor self{sys};
  caf::expected<boost::json::value> result{boost::json::value{}};
  self->request(sup, timeout, snapshot_atom::value)
      .receive([&](boost::json::value& json) { result = std::move(json); },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::error inject_crash(caf::actor_system& sys, const caf::actor& sup,
                        const std::string& child_name, caf::timespan timeout) {
  caf::scoped_actor self{sys};
  caf::error result;
  self->request(sup, timeout, crash_atom::value, child_name)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { result = std::move(err); });
  return result;
}

bool stop_supervisor(caf::actor_system& sys, const caf::actor& sup, caf::timespan timeout) {
  if (!sup) return true;
  caf::scoped_actor self{sys};
  self->monitor(sup);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  bool stopped = false;
  self->receive([&](const caf::down_msg&) { stopped = true; }, caf::after(timeout) >> [] {});
  if (stopped) return true;
  self->send_exit(sup, caf::exit_reason::kill);
  self->receive([](const caf::down_msg&) {}, caf::after(timeout) >> [] {});
  return false;
}

}  // namespace beryl::supervision
