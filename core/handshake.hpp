#pragma once
// The pure parts of a WebSocket connect: the accept key, Phoenix's auth token carried in
// Sec-WebSocket-Protocol (docs/protocol.md §1.6), and the origin check (§1.5).
#include "core/http.hpp"

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

// Which browser origins may open a socket (docs/protocol.md §1.5), as Phoenix's check_origin.
// By default only the page's own server: the Origin's host and port must be those of the
// request's Host header, so a page on another site cannot use a visitor's browser (and cookies)
// to connect. The option's value is "true" (that default), "false" (any origin) or a list of
// allowed origins, e.g. "https://example.com,http://*.example.org:8080,localhost": each entry may
// give scheme, host (with a leading "*." for subdomains) and port, and a part that is not given
// matches anything. A request without an Origin header (not a browser) is always accepted.
class origin_policy {
 public:
  origin_policy() = default;  // the request's own host
  explicit origin_policy(std::string_view setting);
  static origin_policy any();

  // `origin` and `host`: the request's Origin and Host headers, empty when absent.
  bool allows(std::string_view origin, std::string_view host) const;
  bool allows(const http_request& req) const;

 private:
  enum class mode { same_host, any, list };
  struct entry {
    std::string scheme, host, port;
  };
  mode mode_ = mode::same_host;
  std::vector<entry> entries_;
};

}  // namespace beryl::handshake
