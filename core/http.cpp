#include "core/http.hpp"

namespace beryl {

const std::string* find_last(const string_pairs& pairs, std::string_view key) {
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

http_handler first_of(std::vector<http_handler> handlers) {
  return [handlers = std::move(handlers)](const http_request& req, const http_responder& respond) {
    for (const auto& h : handlers)
      if (h && h(req, respond)) return true;
    return false;
  };
}

}  // namespace beryl
