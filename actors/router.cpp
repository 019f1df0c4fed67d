#include "actors/router.hpp"

namespace beryl {

std::optional<router::match> router::route(std::string_view topic) const {
  for (const auto& r : routes_)
    if (r.pattern.match(topic)) return match{&r.factory, &r.pattern};
  return std::nullopt;
}

}  // namespace beryl
