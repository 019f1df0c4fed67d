#pragma once
// The pure parts of a WebSocket connect: the accept key, Phoenix's auth token carried in
// Sec-WebSocket-Protocol (docs/protocol.md §1.6), and the origin check (§1.5).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace beryl::handshake {

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string accept_key(std::string_view client_key);

// What the offered subprotocols say: the decoded auth token, if one was offered, and the
// protocol to echo. `valid` is false when a token was offered but is not decodable or not
// accompanied by "phoenix".
struct subprotocols {
  bool valid = true;
  std::optional<std::string> auth_token;
  std::optional<std::string> selected;
};
subprotocols parse_subprotocols(std::string_view header);

// Allowed origins, e.g. "https://example.com,http://*.example.org:8080,localhost".
// Each entry may give scheme, host (with a leading "*." for subdomains) and port; a part that is
// not given matches anything. A request without an Origin header is always accepted.
class origin_policy {
 public:
  origin_policy() = default;  // checking off: every origin is accepted
  explicit origin_policy(std::string_view allowed);

  bool enabled() const { return !entries_.empty(); }
  bool allows(std::string_view origin) const;

 private:
  struct entry {
    std::string scheme, host, port;
  };
  std::vector<entry> entries_;
};

}  // namespace beryl::handshake
