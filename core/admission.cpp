#include "core/admission.hpp"

namespace beryl {

admission::verdict admission::admit(std::string_view address) {
  if (limits_.total && total_ >= limits_.total) return verdict::over_total;
  if (limits_.per_address) {
    auto& count = per_address_[std::string(address)];
    if (count >= limits_.per_address) return verdict::over_address;
    ++count;
  }
  ++total_;
  return verdict::admitted;
}

void admission::release(std::string_view address) {
  if (total_ > 0) --total_;
  if (!limits_.per_address) return;
  auto it = per_address_.find(std::string(address));
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
}

std::size_t admission::from(std::string_view address) const {
  auto it = per_address_.find(std::string(address));
  return it == per_address_.end() ? 0 : it->second;
}

}  // namespace beryl
