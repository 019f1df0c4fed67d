#include "core/cluster/auth.hpp"
#include "core/cluster/peer_address.hpp"

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>

using namespace beryl::cluster;

TEST_CASE("nonces are 64 hex digits and do not repeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto n = new_nonce();
    CHECK(n.size() == 64);
    CHECK(n.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(n);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("a proof is HMAC-SHA256 keyed by the secret: the same inputs, the same proof") {
  auto p = proof("s3cret", role::dialer, "a", "n1", "n2");
  CHECK(p.size() == 64);
  CHECK(p == proof("s3cret", role::dialer, "a", "n1", "n2"));
  CHECK(p.find("s3cret") == std::string::npos);
}

TEST_CASE("a proof changes with the secret, the role, the node and either nonce") {
  auto p = proof("s3cret", role::dialer, "a", "n1", "n2");
  CHECK(p != proof("other", role::dialer, "a", "n1", "n2"));
  CHECK(p != proof("s3cret", role::listener, "a", "n1", "n2"));
  CHECK(p != proof("s3cret", role::dialer, "b", "n1", "n2"));
  CHECK(p != proof("s3cret", role::dialer, "a", "n3", "n2"));
  CHECK(p != proof("s3cret", role::dialer, "a", "n1", "n3"));
  // Swapping the nonces is another proof: a node's answer cannot be reflected back to it.
  CHECK(p != proof("s3cret", role::dialer, "a", "n2", "n1"));
  // Fields are length-prefixed: moving a character between them changes the proof.
  CHECK(proof("s", role::dialer, "ab", "c", "d") != proof("s", role::dialer, "a", "bc", "d"));
}

TEST_CASE("proofs match only when equal, whatever their length") {
  auto p = proof("k", role::listener, "node", "x", "y");
  CHECK(proofs_match(p, p));
  auto changed = p;
  changed.back() = changed.back() == '0' ? '1' : '0';
  CHECK_FALSE(proofs_match(p, changed));
  CHECK_FALSE(proofs_match(p, p.substr(0, 63)));
  CHECK_FALSE(proofs_match(p, ""));
}

TEST_CASE("peer lists parse HOST:PORT entries and say what is wrong") {
  auto peers = parse_peer_list("127.0.0.1:4001, localhost:4002");
  REQUIRE(peers.size() == 2);
  CHECK(peers[0] == peer_address{"127.0.0.1", 4001});
  CHECK(peers[1] == peer_address{"localhost", 4002});
  CHECK(peers[1].text() == "localhost:4002");
  CHECK(parse_peer_list("").empty());
  CHECK(parse_peer_list("  ").empty());
  CHECK_THROWS_AS(parse_peer_list("a:1,,b:2"), std::invalid_argument);
  CHECK_THROWS_AS(parse_peer_list("nohost"), std::invalid_argument);
  CHECK_THROWS_AS(parse_peer_list(":4001"), std::invalid_argument);
  CHECK_THROWS_AS(parse_peer_list("h:0"), std::invalid_argument);
  CHECK_THROWS_AS(parse_peer_list("h:65536"), std::invalid_argument);
  CHECK_THROWS_AS(parse_peer_list("h:12x"), std::invalid_argument);
}
