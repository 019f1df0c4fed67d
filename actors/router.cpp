#include "actors/router.hpp"

namespace beryl {

std::optional<router::match> router::route(std::string_view topic) const {
  for (const auto& r : routes_)
    if (auto captures = r.pattern.match(topic)) return match{&r.factory, std::move(*captures)};
  return std::nullopt;
}

}  // namespace beryl
