#include "core/handshake.hpp"
#include "core/base64.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace beryl;

TEST_CASE("base64 round-trips every length and refuses foreign characters") {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    auto text = base64::encode(bytes);
    CHECK(text.size() % 4 == 0);
    CHECK(base64::decode(text) == bytes);
    auto unpadded = text.substr(0, text.find('='));
    CHECK(base64::decode(unpadded) == bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
  CHECK(base64::encode("foobar") == "Zm9vYmFy");
  CHECK(base64::encode("fo") == "Zm8=");
  CHECK_FALSE(base64::decode("Zm9v!"));
  CHECK_FALSE(base64::decode("Z"));
}

TEST_CASE("the accept key is the one in RFC 6455") {
  CHECK(handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("phoenix.js's auth token is decoded from Sec-WebSocket-Protocol") {
  // phoenix.js sends ["phoenix", "base64url.bearer.phx." + btoa(token) without '=']
  auto p = handshake::parse_subprotocols("phoenix, base64url.bearer.phx.c2VjcmV0LXRva2Vu");
  CHECK(p.valid);
  CHECK(p.auth_token == std::string("secret-token"));
  CHECK(p.selected == std::string("phoenix"));

  auto no_token = handshake::parse_subprotocols("phoenix");
  CHECK(no_token.valid);
  CHECK_FALSE(no_token.auth_token);
  CHECK(no_token.selected == std::string("phoenix"));

  CHECK(handshake::parse_subprotocols("").valid);
  CHECK_FALSE(handshake::parse_subprotocols("").selected);
  CHECK(handshake::parse_subprotocols("chat").valid);  // ignored, as Phoenix does
  CHECK_FALSE(
      handshake::parse_subprotocols("base64url.bearer.phx.c2VjcmV0").valid);  // no "phoenix"
  CHECK_FALSE(handshake::parse_subprotocols("phoenix, base64url.bearer.phx.%%%").valid);
}

TEST_CASE("a listed origin policy matches scheme, host and port as given") {
  handshake::origin_policy p("http://allowed.example, *.example.org, https://secure.example:8443");
  auto allows = [&](std::string_view origin) { return p.allows(origin, "server.example:4000"); };
  CHECK(allows("http://allowed.example"));
  CHECK(allows("http://ALLOWED.example:80"));
  CHECK_FALSE(allows("https://allowed.example"));
  CHECK_FALSE(allows("http://evil.example"));
  CHECK(allows("https://example.org"));
  CHECK(allows("http://a.b.example.org:3000"));
  CHECK_FALSE(allows("http://badexample.org"));
  CHECK(allows("https://secure.example:8443"));
  CHECK_FALSE(allows("https://secure.example"));
  CHECK_FALSE(allows("null"));
  CHECK_FALSE(allows("http://server.example:4000"));  // a list replaces the same-host default
  CHECK(allows(""));                                  // no Origin: not a browser
}

TEST_CASE("by default only the request's own host and port may be the Origin") {
  handshake::origin_policy same;
  CHECK(same.allows("http://127.0.0.1:4000", "127.0.0.1:4000"));
  CHECK(same.allows("http://LocalHost:4000", "localhost:4000"));
  CHECK(same.allows("", "127.0.0.1:4000"));  // no Origin: not a browser
  CHECK(same.allows("", ""));
  CHECK_FALSE(same.allows("http://127.0.0.1:4001", "127.0.0.1:4000"));
  CHECK_FALSE(same.allows("http://evil.example:4000", "127.0.0.1:4000"));
  CHECK_FALSE(same.allows("http://127.0.0.1", "127.0.0.1:4000"));
  CHECK_FALSE(same.allows("null", "127.0.0.1:4000"));
  CHECK_FALSE(same.allows("http://127.0.0.1:4000", ""));  // nothing to compare with
  // A Host without a port is the origin scheme's default port (a TLS proxy in front).
  CHECK(same.allows("https://chat.example", "chat.example"));
  CHECK(same.allows("http://chat.example:80", "chat.example"));
  CHECK_FALSE(same.allows("https://chat.example:8443", "chat.example"));
  CHECK(same.allows("http://[::1]:4000", "[::1]:4000"));
  CHECK_FALSE(same.allows("http://[::1]:4001", "[::1]:4000"));
  CHECK(handshake::origin_policy("true").allows("http://a.example", "a.example"));
  CHECK_FALSE(handshake::origin_policy("true").allows("http://b.example", "a.example"));
}

TEST_CASE("\"false\" accepts any origin; an empty or hostless setting is refused") {
  CHECK(handshake::origin_policy("false").allows("http://evil.example", "127.0.0.1:4000"));
  CHECK(handshake::origin_policy::any().allows("null", ""));
  CHECK_THROWS_AS(handshake::origin_policy(""), std::invalid_argument);
  CHECK_THROWS_AS(handshake::origin_policy("http://"), std::invalid_argument);
}

TEST_CASE("an http_request is checked by its Origin and Host headers") {
  http_request req;
  req.headers = {{"host", "127.0.0.1:4000"}, {"origin", "http://127.0.0.1:4000"}};
  CHECK(handshake::origin_policy().allows(req));
  req.headers.back().second = "https://evil.example";
  CHECK_FALSE(handshake::origin_policy().allows(req));
  req.headers.pop_back();
  CHECK(handshake::origin_policy().allows(req));
}
