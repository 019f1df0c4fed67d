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
  if (verdict != admission::verdict::admitted) return {verdict, {}};
  std::unique_ptr<std::string> kept;
  if (counts_.counts_addresses()) kept = std::make_unique<std::string>(address);
  return {verdict, ticket(shared_from_this(), std::move(kept))};
}

admission_gate::ticket& admission_gate::ticket::operator=(ticket&& other) noexcept {
  give_back();
  gate_ = std::move(other.gate_);
  address_ = std::move(other.address_);
  return *this;
}

void admission_gate::ticket::give_back() {
  if (!gate_) return;
  auto gate = std::move(gate_);  // may be the last reference: outlives the lock below
  std::lock_guard lock(gate->mutex_);
  gate->counts_.release(address_ ? std::string_view(*address_) : std::string_view());
}

std::size_t admission_gate::admitted() const {
  std::lock_guard lock(mutex_);
  return counts_.total();
}

}  // namespace beryl
