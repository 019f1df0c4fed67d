#include "core/handshake.hpp"
#include "core/base64.hpp"

#include <doctest/doctest.h>

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

TEST_CASE("the origin policy matches scheme, host and port as given") {
  handshake::origin_policy off;
  CHECK(off.allows("http://anything.example"));

  handshake::origin_policy p("http://allowed.example, *.example.org, https://secure.example:8443");
  CHECK(p.allows("http://allowed.example"));
  CHECK(p.allows("http://ALLOWED.example:80"));
  CHECK_FALSE(p.allows("https://allowed.example"));
  CHECK_FALSE(p.allows("http://evil.example"));
  CHECK(p.allows("https://example.org"));
  CHECK(p.allows("http://a.b.example.org:3000"));
  CHECK_FALSE(p.allows("http://badexample.org"));
  CHECK(p.allows("https://secure.example:8443"));
  CHECK_FALSE(p.allows("https://secure.example"));
  CHECK_FALSE(p.allows("null"));
}
