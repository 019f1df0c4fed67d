#include "transport/http.hpp"

namespace beryl {

const std::string* find_last(const string_pairs& pairs, std::string_view key) {
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

}  // namespace beryl
