#include "core/cluster/peer_address.hpp"

#include <charconv>
#include <stdexcept>

namespace beryl::cluster {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

peer_address parse_peer_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    throw std::invalid_argument("'" + std::string(text) + "' is not HOST:PORT");
  auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    throw std::invalid_argument("'" + std::string(text) + "': the port is not 1-65535");
  return {std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

std::vector<peer_address> parse_peer_list(std::string_view text) {
  std::vector<peer_address> peers;
  if (trimmed(text).empty()) return peers;
  for (;;) {
    auto comma = text.find(',');
    auto entry = trimmed(text.substr(0, comma));
    if (entry.empty()) throw std::invalid_argument("an empty entry in the peer list");
    peers.push_back(parse_peer_address(entry));
    if (comma == std::string_view::npos) return peers;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace beryl::cluster
