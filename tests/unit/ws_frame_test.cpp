#include "core/ws_frame.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace beryl;

namespace {

// A client frame: masked, as RFC 6455 requires of clients.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true) {
  std::string out;
  out += static_cast<char>(first_byte);
  std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i)
      out += static_cast<char>((std::uint64_t(payload.size()) >> (8 * i)) & 0xFF);
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i];
  return out;
}

std::string text(std::string_view p, bool fin = true) {
  return client_frame((fin ? 0x80 : 0) | 0x1, p);
}
std::string continuation(std::string_view p, bool fin) {
  return client_frame((fin ? 0x80 : 0) | 0x0, p);
}

struct recorder : ws::decoder::handler {
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<std::string> pings;
  int close_code = 0;
  std::string close_reason;
  void on_message(std::string_view d, bool binary) override {
    messages.emplace_back(std::string(d), binary);
  }
  void on_ping(std::string_view d) override { pings.emplace_back(d); }
  void on_close(std::uint16_t code, std::string_view reason) override {
    close_code = code;
    close_reason = std::string(reason);
  }
};

std::uint16_t feed(ws::decoder& d, recorder& r, std::string bytes) {
  return d.feed(bytes.data(), bytes.size(), r);
}

}  // namespace

TEST_CASE("decodes masked text and binary frames, several per read") {
  ws::decoder d(1 << 20);
  recorder r;
  CHECK(feed(d, r, text("[1]") + client_frame(0x82, std::string("\x00\xff", 2))) == 0);
  REQUIRE(r.messages.size() == 2);
  CHECK(r.messages[0] == std::make_pair(std::string("[1]"), false));
  CHECK(r.messages[1] == std::make_pair(std::string("\x00\xff", 2), true));
  CHECK(d.idle());
}

TEST_CASE("a frame split at every byte boundary decodes the same") {
  std::string big(70000, 'x');   // a 64-bit length field
  std::string medium(300, 'y');  // a 16-bit length field
  auto bytes = text("hello") + text(medium) + text(big);
  for (std::size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    ws::decoder d(1 << 20);
    recorder r;
    for (std::size_t i = 0; i < bytes.size(); i += step) {
      std::string chunk = bytes.substr(i, step);
      REQUIRE(d.feed(chunk.data(), chunk.size(), r) == 0);
    }
    REQUIRE(r.messages.size() == 3);
    CHECK(r.messages[0].first == "hello");
    CHECK(r.messages[1].first == medium);
    CHECK(r.messages[2].first == big);
    CHECK(d.idle());
    CHECK_FALSE(d.holds_buffer());  // between messages a decoder holds no memory
  }
}

TEST_CASE("fragmented messages are reassembled, with control frames between fragments") {
  ws::decoder d(1 << 20);
  recorder r;
  CHECK(feed(d, r, text("he", false) + client_frame(0x89, "p") + continuation("ll", false)) == 0);
  CHECK(r.messages.empty());
  CHECK_FALSE(d.idle());
  CHECK(d.holds_buffer());
  CHECK(r.pings == std::vector<std::string>{"p"});
  CHECK(feed(d, r, continuation("o", true)) == 0);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].first == "hello");
  CHECK(d.idle());
  CHECK_FALSE(d.holds_buffer());
}

TEST_CASE("close frames report their code and reason, or 1005 without one") {
  ws::decoder d(1 << 20);
  recorder r;
  CHECK(feed(d, r, client_frame(0x88, std::string("\x03\xe8", 2) + "bye") + text("ignored")) == 0);
  CHECK(r.close_code == 1000);
  CHECK(r.close_reason == "bye");
  CHECK(r.messages.empty());  // nothing after a close is decoded

  ws::decoder d2(1 << 20);
  recorder r2;
  CHECK(feed(d2, r2, client_frame(0x88, "")) == 0);
  CHECK(r2.close_code == 1005);
}

TEST_CASE("protocol violations close with 1002") {
  auto error_of = [](std::string bytes) {
    ws::decoder d(1 << 20);
    recorder r;
    return d.feed(bytes.data(), bytes.size(), r);
  };
  CHECK(error_of(client_frame(0x81, "x", false)) == 1002);             // unmasked client frame
  CHECK(error_of(client_frame(0xC1, "x")) == 1002);                    // RSV1 without an extension
  CHECK(error_of(client_frame(0x83, "x")) == 1002);                    // unknown opcode
  CHECK(error_of(continuation("x", true)) == 1002);                    // nothing to continue
  CHECK(error_of(text("a", false) + text("b")) == 1002);               // new message mid-fragment
  CHECK(error_of(client_frame(0x09, "p")) == 1002);                    // fragmented control frame
  CHECK(error_of(client_frame(0x89, std::string(126, 'p'))) == 1002);  // control frame too long
  CHECK(error_of(client_frame(0x88, "x")) == 1002);                    // one-byte close payload
}

TEST_CASE("close frames with a code a peer may not send close with 1002") {
  auto close_with = [](std::uint16_t code) {
    ws::decoder d(1 << 20);
    recorder r;
    std::string body{char(code >> 8), char(code & 0xff)};
    auto error = feed(d, r, client_frame(0x88, body + "why"));
    return std::make_pair(int(error), r.close_code);
  };
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    CAPTURE(code);
    CHECK(close_with(code).first == 1002);
  }
  for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999}) {
    CAPTURE(code);
    CHECK(close_with(code) == std::make_pair(0, int(code)));
  }
}

TEST_CASE("messages over the limit close with 1009 before their payload arrives") {
  ws::decoder d(100);
  recorder r;
  auto frame = text(std::string(101, 'x'));
  CHECK(d.feed(frame.data(), 4, r) == 1009);  // the header alone is enough

  ws::decoder fragments(100);
  recorder r2;
  CHECK(feed(fragments, r2, text(std::string(60, 'a'), false)) == 0);
  CHECK(feed(fragments, r2, continuation(std::string(60, 'b'), true)) == 1009);
  CHECK(r2.messages.empty());

  ws::decoder exact(100);
  recorder r3;
  CHECK(feed(exact, r3, text(std::string(100, 'x'))) == 0);
  CHECK(r3.messages.size() == 1);
}

TEST_CASE("server frames are unmasked with the shortest length field") {
  unsigned char h[ws::max_header_size];
  CHECK(ws::server_header(ws::opcode::text, 125, h) == 2);
  CHECK(h[0] == 0x81);
  CHECK(h[1] == 125);
  CHECK(ws::server_header(ws::opcode::binary, 126, h) == 4);
  CHECK(h[0] == 0x82);
  CHECK(h[1] == 126);
  CHECK((h[2] << 8 | h[3]) == 126);
  CHECK(ws::server_header(ws::opcode::text, 70000, h) == 10);
  CHECK(h[1] == 127);
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len = len << 8 | h[2 + i];
  CHECK(len == 70000);
  auto close = ws::close_frame(1001, std::string(200, 'r'));
  CHECK(close.size() == 2 + 125);  // the reason is cut to fit a control frame
  CHECK(static_cast<unsigned char>(close[0]) == 0x88);
  CHECK((static_cast<unsigned char>(close[2]) << 8 | static_cast<unsigned char>(close[3])) == 1001);
}
