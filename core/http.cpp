#include "core/http.hpp"

#include <algorithm>
#include <cctype>

namespace beryl {

const std::string* find_last(const string_pairs& pairs, std::string_view key) {
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

bool unambiguous_body_length(const std::string* transfer_encoding, bool has_content_length,
                             bool http_1_1) {
  if (!transfer_encoding) return true;
  if (has_content_length || !http_1_1) return false;  // HTTP/1.0 has no transfer codings
  std::string_view coding = *transfer_encoding;
  auto space = [](unsigned char c) { return c == ' ' || c == '\t'; };
  while (!coding.empty() && space(coding.front())) coding.remove_prefix(1);
  while (!coding.empty() && space(coding.back())) coding.remove_suffix(1);
  // The only coding the server decodes; also what every client sends.
  constexpr std::string_view chunked = "chunked";
  return coding.size() == chunked.size() &&
         std::equal(coding.begin(), coding.end(), chunked.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
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
