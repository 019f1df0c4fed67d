#pragma once
// Plain HTTP routes served on the transport's port, without Beast types, so the app can add
// routes without compiling Beast.
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace beryl {

using string_pairs = std::vector<std::pair<std::string, std::string>>;

// The last occurrence of `key`, as Plug reads duplicate query keys (docs/protocol.md §1.2).
const std::string* find_last(const string_pairs& pairs, std::string_view key);

// Whether a request's body length is unambiguous (RFC 9112 §6.1, §6.3): no Transfer-Encoding, or
// exactly "chunked" in HTTP/1.1 without Content-Length. `transfer_encoding` is every
// Transfer-Encoding field joined with ", " (nullptr: none). Anything else ("xchunked",
// "gzip, chunked", chunked beside a Content-Length) is read differently by different servers and
// proxies, which is how a second request is smuggled inside the first: answered 400, then closed.
bool unambiguous_body_length(const std::string* transfer_encoding, bool has_content_length,
                             bool http_1_1);

// The address part of a peer "address:port": "10.0.0.1:4000" -> "10.0.0.1", "::1:4000" -> "::1".
std::string_view peer_address(std::string_view peer);

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string path;
  string_pairs query;    // decoded, in order
  string_pairs headers;  // names in lower case
  std::string body;
  std::string peer;  // "address:port"

  const std::string* param(std::string_view key) const { return find_last(query, key); }
  const std::string* header(std::string_view name) const { return find_last(headers, name); }
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  string_pairs headers;
};

using http_responder = std::function<void(http_response)>;

// Answers through `respond` (now or later, from any thread) and returns true, or returns false
// when the route is not its own (the transport answers 404).
using http_handler = std::function<bool(const http_request&, const http_responder& respond)>;

// The first of `handlers` that takes the request.
http_handler first_of(std::vector<http_handler> handlers);

}  // namespace beryl
