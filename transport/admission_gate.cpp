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
  // The ticket keeps the gate alive: a connection may outlive the listener that admitted it.
  auto release = [gate = shared_from_this(), address = std::string(address)](const void*) {
    std::lock_guard lock(gate->mutex_);
    gate->counts_.release(address);
  };
  return {verdict, std::shared_ptr<const void>(static_cast<const void*>(this), std::move(release))};
}

std::size_t admission_gate::admitted() const {
  std::lock_guard lock(mutex_);
  return counts_.total();
}

}  // namespace beryl
