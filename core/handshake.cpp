#include "core/handshake.hpp"

#include "core/base64.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace beryl::handshake {
namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view auth_prefix = "base64url.bearer.phx.";
constexpr std::string_view phoenix_protocol = "phoenix";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto item = trim(s.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct parsed_origin {
  std::string scheme, host, port;
};

// "scheme://host:port", "host:port" or "host" (a Host header is the last two). An IPv6 address
// is bracketed ("[::1]:4000"): its own colons are not the port's.
parsed_origin parse_origin(std::string_view s) {
  parsed_origin o;
  if (auto sep = s.find("://"); sep != std::string_view::npos) {
    o.scheme = lower(s.substr(0, sep));
    s.remove_prefix(sep + 3);
  }
  s = s.substr(0, s.find('/'));
  auto colon = s.rfind(':');
  auto bracket = s.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    o.port = std::string(s.substr(colon + 1));
    s = s.substr(0, colon);
  }
  o.host = lower(s);
  return o;
}

std::string default_port(const std::string& scheme) {
  if (scheme == "http" || scheme == "ws") return "80";
  if (scheme == "https" || scheme == "wss") return "443";
  return {};
}

bool host_matches(const std::string& pattern, const std::string& host) {
  if (pattern.rfind("*.", 0) == 0) {
    auto base = pattern.substr(2);
    return host == base || (host.size() > base.size() &&
                            host.compare(host.size() - base.size(), base.size(), base) == 0 &&
                            host[host.size() - base.size() - 1] == '.');
  }
  return pattern == host;
}

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string input(client_key);
  input += websocket_guid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64::encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

subprotocols parse_subprotocols(std::string_view header) {
  subprotocols result;
  auto offered = split_list(header);
  if (offered.empty()) return result;
  for (auto protocol : offered) {
    if (protocol.substr(0, auth_prefix.size()) == auth_prefix) {
      auto token = base64::decode(protocol.substr(auth_prefix.size()));
      if (!token) result.valid = false;
      result.auth_token = std::move(token);
    } else if (protocol == phoenix_protocol) {
      result.selected = std::string(phoenix_protocol);
    }
  }
  // phoenix.js offers "phoenix" next to the token, and a browser fails the handshake unless an
  // offered protocol is echoed; other protocols are ignored, as Phoenix does.
  if (result.auth_token && !result.selected) result.valid = false;
  return result;
}

origin_policy::origin_policy(std::string_view setting) {
  setting = trim(setting);
  if (setting == "true") return;
  if (setting == "false") {
    mode_ = mode::any;
    return;
  }
  mode_ = mode::list;
  for (auto item : split_list(setting)) {
    auto o = parse_origin(item);
    if (o.host.empty())
      throw std::invalid_argument("check-origin entry without a host: " + std::string(item));
    entries_.push_back({o.scheme, o.host, o.port});
  }
  if (entries_.empty())
    throw std::invalid_argument("check-origin needs true, false or a list of origins");
}

origin_policy origin_policy::any() {
  return origin_policy("false");
}

bool origin_policy::allows(std::string_view origin, std::string_view host) const {
  if (origin.empty() || mode_ == mode::any) return true;
  auto o = parse_origin(origin);
  if (o.host.empty()) return false;
  if (o.port.empty()) o.port = default_port(o.scheme);
  if (mode_ == mode::same_host) {
    // A Host without a port names the scheme's default one, which only the origin's scheme
    // tells (behind a TLS proxy the server itself speaks plain HTTP).
    auto own = parse_origin(host);
    if (own.port.empty()) own.port = default_port(o.scheme);
    return !own.host.empty() && own.host == o.host && own.port == o.port;
  }
  return std::any_of(entries_.begin(), entries_.end(), [&](const entry& e) {
    return (e.scheme.empty() || e.scheme == o.scheme) && host_matches(e.host, o.host) &&
           (e.port.empty() || e.port == o.port);
  });
}

bool origin_policy::allows(const http_request& req) const {
  const std::string* origin = req.header("origin");
  const std::string* host = req.header("host");
  return allows(origin ? *origin : std::string_view(), host ? *host : std::string_view());
}

}  // namespace beryl::handshake
