#include "transport/admission_gate.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace beryl {

admission_gate::outcome admission_gate::admit(std::string_view address) {
  admission::verdict verdict;
  {
    std::lock_guard lock(mutex_);
    verdict = counts_.admit(address);
  }
  if (verdict != admission::verdict::admitted) return {verdict, nullptr};
  // The ticket keeps the gate alive: a connection may outlive the listener that admitted it. It
  // keeps the address only when there is a cap per address (a ticket is held per connection).
  const void* id = this;
  if (!counts_.counts_addresses()) {
    return {verdict, std::shared_ptr<const void>(id, [gate = shared_from_this()](const void*) {
              std::lock_guard lock(gate->mutex_);
              gate->counts_.release({});
            })};
  }
  return {verdict, std::shared_ptr<const void>(id, [gate = shared_from_this(),
                                                    address = std::string(address)](const void*) {
            std::lock_guard lock(gate->mutex_);
            gate->counts_.release(address);
          })};
}

std::size_t admission_gate::admitted() const {
  std::lock_guard lock(mutex_);
  return counts_.total();
}

}  // namespace beryl
