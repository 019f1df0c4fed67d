#pragma once
// HOST:PORT addresses of cluster nodes, as --peers lists them and nodes advertise themselves.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace beryl::cluster {

struct peer_address {
  std::string host;
  std::uint16_t port = 0;

  std::string text() const { return host + ":" + std::to_string(port); }
  friend bool operator==(const peer_address& a, const peer_address& b) {
    return a.host == b.host && a.port == b.port;
  }
};

// "HOST:PORT"; throws std::invalid_argument saying what is wrong.
peer_address parse_peer_address(std::string_view text);
// "HOST:PORT,HOST:PORT,..." (spaces around entries allowed, empty entries not).
std::vector<peer_address> parse_peer_list(std::string_view text);

}  // namespace beryl::cluster
