#include "core/http.hpp"

namespace beryl {

const std::string* find_last(const string_pairs& pairs, std::string_view key) {
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

std::string_view peer_address(std::string_view peer) {
  auto colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

http_handler first_of(std::vector<http_handler> handlers) {
  return [handlers = std::move(handlers)](const http_request& req, const http_responder& respond) {
    for (const auto& h : handlers)
      if (h && h(req, respond)) return true;
    return false;
  };
}

}  // namespace beryl
