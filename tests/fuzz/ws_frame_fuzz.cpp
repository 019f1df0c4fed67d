// The RFC 6455 decoder against random streams: valid ones cut at random points must decode to
// exactly what was sent; corrupted and random ones must end in a close code, never in a crash,
// an oversized message or anything delivered after the close.
#include "core/close_code.hpp"
#include "core/ws_frame.hpp"
#include "fuzz_support.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

using namespace beryl;
using beryl::fuzz::rng;

namespace {

struct recorder final : ws::decoder::handler {
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<std::string> pings;
  std::optional<std::pair<std::uint16_t, std::string>> close;
  bool after_close = false;  // anything reported once the close frame was seen

  void on_message(std::string_view data, bool binary) override {
    after_close |= close.has_value();
    messages.emplace_back(data, binary);
  }
  void on_ping(std::string_view data) override {
    after_close |= close.has_value();
    pings.emplace_back(data);
  }
  void on_close(std::uint16_t code, std::string_view reason) override {
    after_close |= close.has_value();
    close.emplace(code, reason);
  }
};

// A masked client frame, written here from RFC 6455 §5.2 independently of the decoder.
std::string client_frame(rng& r, std::uint8_t op, bool fin, std::string_view payload) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | op);
  auto size = payload.size();
  if (size < 126) {
    out += static_cast<char>(0x80 | size);
  } else if (size <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    for (int shift = 8; shift >= 0; shift -= 8) out += static_cast<char>(size >> shift & 0xFF);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>(size >> shift & 0xFF);
  }
  unsigned char mask[4] = {r.byte(), r.byte(), r.byte(), r.byte()};
  out.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < size; ++i) out += static_cast<char>(payload[i] ^ mask[i % 4]);
  return out;
}

struct sent_stream {
  std::string bytes;
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<std::string> pings;
  std::optional<std::pair<std::uint16_t, std::string>> close;
};

std::size_t payload_size(rng& r) {
  switch (r.between(0, 9)) {
    case 0:
      return r.between(126, 70'000);  // the 16- and 64-bit length forms
    case 1:
      return r.between(120, 130);  // around the 7-bit limit
    default:
      return r.between(0, 40);
  }
}

// Messages cut into fragments with pings between them, sometimes ended by a close frame.
sent_stream valid_stream(rng& r) {
  sent_stream s;
  for (std::size_t n = r.between(1, 6); n > 0; --n) {
    bool binary = r.chance(0.5);
    std::string data = binary ? r.bytes(payload_size(r)) : r.utf8(payload_size(r));
    std::size_t pieces = r.between(1, 4);
    std::size_t at = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
      std::size_t end = i + 1 == pieces ? data.size() : r.between(at, data.size());
      std::uint8_t op = i > 0 ? 0x0 : binary ? 0x2 : 0x1;
      s.bytes += client_frame(r, op, i + 1 == pieces, std::string_view(data).substr(at, end - at));
      at = end;
      if (r.chance(0.3)) {
        s.pings.push_back(r.bytes(r.between(0, 125)));
        s.bytes += client_frame(r, 0x9, true, s.pings.back());
      }
    }
    s.messages.emplace_back(std::move(data), binary);
  }
  if (r.chance(0.4)) {
    std::uint16_t code = 0;
    while (!close_code::valid_from_peer(code))  // codes a peer may send (the rest get 1002)
      code = static_cast<std::uint16_t>(r.between(1000, 4999));
    std::string reason = r.utf8(20).substr(0, 100);
    std::string body{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    s.bytes += client_frame(r, 0x8, true, body + reason);
    s.close.emplace(code, reason);
    s.bytes += client_frame(r, 0x1, true, "ignored after the close");
  }
  return s;
}

// Feeds `bytes` as one read of exactly that size: an allocation of just those bytes, so that
// AddressSanitizer sees any read past them.
std::uint16_t feed_exactly(ws::decoder& d, std::string_view bytes, recorder& rec) {
  auto buffer = std::make_unique<char[]>(bytes.size());
  std::memcpy(buffer.get(), bytes.data(), bytes.size());
  return d.feed(buffer.get(), bytes.size(), rec);
}

// Feeds `bytes` in chunks of random size, each in its own buffer as a socket read would deliver
// them, until the decoder asks to close. Returns that close code, or 0.
std::uint16_t feed_in_chunks(rng& r, ws::decoder& d, const std::string& bytes, recorder& rec) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    std::size_t n = r.chance(0.5) ? r.between(1, 8) : r.between(1, bytes.size() - at);
    n = std::min(n, bytes.size() - at);
    auto code = feed_exactly(d, std::string_view(bytes).substr(at, n), rec);
    at += n;
    if (code) return code;
  }
  return 0;
}

void corrupt(rng& r, std::string& bytes) {
  for (std::size_t n = r.between(1, 4); n > 0 && !bytes.empty(); --n) {
    std::size_t at = r.between(0, bytes.size() - 1);
    switch (r.between(0, 3)) {
      case 0:
        bytes[at] = static_cast<char>(r.byte());
        break;
      case 1:
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << r.between(0, 7)));
        break;
      case 2:
        bytes.erase(at, r.between(1, 16));
        break;
      default:
        bytes.insert(at, r.bytes(16));
        break;
    }
  }
}

}  // namespace

TEST_CASE(
    "valid client streams cut anywhere decode to exactly the messages, pings and close sent") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed());
  for (int round = 0; round < fuzz::rounds(3000); ++round) {
    INFO("round " << round);
    auto sent = valid_stream(r);
    ws::decoder d(1 << 20);
    recorder rec;
    REQUIRE(feed_in_chunks(r, d, sent.bytes, rec) == 0);
    CHECK(rec.messages == sent.messages);
    CHECK(rec.pings == sent.pings);
    CHECK(rec.close == sent.close);
    CHECK_FALSE(rec.after_close);
    if (!sent.close) CHECK(d.idle());
  }
}

TEST_CASE("a frame cut anywhere in its header decodes once the rest arrives, in all length forms") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 3);
  for (int round = 0; round < fuzz::rounds(150); ++round) {
    INFO("round " << round);
    static constexpr std::pair<std::size_t, std::size_t> forms[] = {
        {0, 125}, {126, 0xFFFF}, {0x10000, 0x11000}};
    auto [lo, hi] = forms[round % 3];
    std::string data = r.bytes(0);
    data.resize(r.between(lo, hi), static_cast<char>(r.byte()));
    bool binary = r.chance(0.5);
    auto frame = client_frame(r, binary ? 0x2 : 0x1, true, data);
    for (std::size_t cut = 1; cut < std::min<std::size_t>(frame.size(), 20); ++cut) {
      INFO("cut after " << cut << " bytes");
      ws::decoder d(1 << 20);
      recorder rec;
      REQUIRE(feed_exactly(d, std::string_view(frame).substr(0, cut), rec) == 0);
      CHECK(rec.messages.empty());
      REQUIRE(feed_exactly(d, std::string_view(frame).substr(cut), rec) == 0);
      REQUIRE(rec.messages.size() == 1);
      CHECK(rec.messages[0] == std::pair{data, binary});
    }
  }
}

TEST_CASE("a message over the limit closes with 1009 and is never delivered, whole or in part") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 1);
  for (int round = 0; round < fuzz::rounds(1000); ++round) {
    INFO("round " << round);
    std::size_t limit = r.between(1, 300);
    std::string data = r.bytes(limit + r.between(1, 300));
    data.resize(std::max(data.size(), limit + 1), 'x');
    std::string bytes;
    std::size_t pieces = r.between(1, 5);
    std::size_t at = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
      std::size_t end = i + 1 == pieces ? data.size() : r.between(at, data.size());
      bytes += client_frame(r, i > 0 ? 0x0 : 0x2, i + 1 == pieces,
                            std::string_view(data).substr(at, end - at));
      at = end;
    }
    ws::decoder d(limit);
    recorder rec;
    CHECK(feed_in_chunks(r, d, bytes, rec) == 1009);
    CHECK(rec.messages.empty());
  }
}

TEST_CASE("corrupted and random bytes end in 0, 1002 or 1009: nothing oversized, nothing after") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 2);
  int refused = 0;
  for (int round = 0; round < fuzz::rounds(6000); ++round) {
    INFO("round " << round);
    std::string bytes = r.chance(0.2) ? r.bytes(300) : valid_stream(r).bytes;
    corrupt(r, bytes);
    std::size_t limit = r.chance(0.5) ? 1 << 20 : r.between(0, 200);
    ws::decoder d(limit);
    recorder rec;
    auto code = feed_in_chunks(r, d, bytes, rec);
    CHECK((code == 0 || code == 1002 || code == 1009));
    refused += code != 0;
    for (const auto& [data, binary] : rec.messages) CHECK(data.size() <= limit);
    for (const auto& ping : rec.pings) CHECK(ping.size() <= 125);
    CHECK_FALSE(rec.after_close);
    if (code) {
      // The decoder stays closed: more bytes change nothing.
      std::string more = r.bytes(64);
      auto before = rec.messages.size();
      CHECK(d.feed(more.data(), more.size(), rec) == code);
      CHECK(rec.messages.size() == before);
    }
  }
  CHECK(refused > 0);  // the corruption really reached the decoder's checks
}
