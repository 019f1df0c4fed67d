#include "supervision/child_spec.hpp"

#include "caf/exit_reason.hpp"

namespace beryl::supervision {

child_spec worker_spec(std::string name, start_function start, restart_type restart) {
  child_spec spec;
  spec.name = std::move(name);
  spec.start = std::move(start);
  spec.restart = restart;
  return spec;
}

bool is_abnormal(const caf::error& reason) {
  return reason && reason != caf::exit_reason::user_shutdown;
}

bool should_restart(restart_type restart, const caf::error& reason) {
  switch (restart) {
    case restart_type::permanent:
      return true;
    case restart_type::transient:
      return is_abnormal(reason);
    case restart_type::temporary:
      return false;
  }
  return false;
}

const char* to_string(restart_type restart) {
  switch (restart) {
    case restart_type::permanent:
      return "permanent";
    case restart_type::transient:
      return "transient";
    case restart_type::temporary:
      return "temporary";
  }
  return "unknown";
}

const char* to_string(child_kind kind) {
  return kind == child_kind::worker ? "worker" : "supervisor";
}

}  // namespace beryl::supervision
