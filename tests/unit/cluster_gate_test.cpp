// The cluster's gate (actors/cluster_gate.hpp) with a dialer in the same process: only a dialer
// that proves it knows the secret, answering the gate's own challenge, reaches the cluster actor.
#include "actors/cluster_gate.hpp"
#include "actor_test_support.hpp"
#include "core/cluster/auth.hpp"

#include <doctest/doctest.h>
#include <caf/all.hpp>

using namespace beryl;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string secret = "gate-test-secret";

// Stands in for the cluster actor: reports every admitted peer's node name to `observer`.
cluster_actor::behavior_type recording_cluster(cluster_actor::pointer, caf::actor observer) {
  return {
      [](atoms::heartbeat, const std::string&, std::uint64_t, const std::vector<std::string>&,
         std::uint64_t) {},
      [](atoms::forward, const std::string&, const std::string&, const std::string&, bool) {},
      [](atoms::broadcast, const std::string&, const std::string&, const payload&) {},
      [](atoms::replicate, const std::vector<std::string>&, std::uint64_t, std::uint64_t,
         const std::string&) {},
      [](atoms::replicate, std::uint64_t, std::uint64_t, const std::string&, std::int64_t) {},
      [](atoms::leave) { return caf::ok_atom::value; },
      [=](atoms::peer, const caf::actor&, const std::string& node, std::uint64_t,
          const std::string&) { caf::anon_send(observer, atoms::peer::value, node); },
      [](atoms::list) { return json::value(); },
      [](atoms::stats) { return json::value(); },
  };
}

struct gate_fixture {
  testing::test_actor_system f;
  caf::scoped_actor self{*f.sys};
  cluster_actor cluster = f.sys->spawn(recording_cluster, caf::actor{self});
  cluster_gate_actor gate =
      spawn_cluster_gate(*f.sys, {"gatekeeper", 42, "127.0.0.1:7000"}, secret, cluster);

  ~gate_fixture() { self->send_exit(cluster, caf::exit_reason::user_shutdown); }

  struct challenge {
    std::string node, nonce, proof;
  };
  challenge hello(const std::string& dialer, const std::string& nonce) {
    challenge c;
    self->request(gate, 5s, atoms::hello::value, dialer, nonce)
        .receive(
            [&](std::string& n, std::string& gate_nonce, std::string& p) {
              c = {n, gate_nonce, p};
            },
            [](caf::error& err) { FAIL("hello refused: " << caf::to_string(err)); });
    return c;
  }
  // The cluster actor the gate hands out, or nothing when it refuses.
  std::optional<caf::actor> prove(const std::string& dialer, const std::string& proof) {
    std::optional<caf::actor> admitted;
    self->request(gate, 5s, atoms::prove::value, dialer, std::uint64_t{7},
                  std::string("127.0.0.1:7001"), proof, caf::actor{self})
        .receive(
            [&](caf::actor& c, std::uint64_t incarnation, std::string& address) {
              CHECK(incarnation == 42);
              CHECK(address == "127.0.0.1:7000");
              admitted = c;
            },
            [](caf::error&) {});
    return admitted;
  }
  bool cluster_told_of(const std::string& node, std::chrono::milliseconds wait) {
    bool told = false;
    self->receive([&](atoms::peer, const std::string& n) { told = n == node; },
                  caf::after(wait) >> [] {});
    return told;
  }
};

}  // namespace

TEST_CASE("the gate proves it knows the secret, bound to the dialer's nonce") {
  gate_fixture g;
  auto c = g.hello("dialer", "dialer-nonce");
  CHECK(c.node == "gatekeeper");
  CHECK(cluster::proofs_match(
      cluster::proof(secret, cluster::role::listener, "gatekeeper", c.nonce, "dialer-nonce"),
      c.proof));
  CHECK_FALSE(cluster::proofs_match(cluster::proof("another secret", cluster::role::listener,
                                                   "gatekeeper", c.nonce, "dialer-nonce"),
                                    c.proof));
}

TEST_CASE("a dialer answering the gate's challenge is admitted and handed the cluster actor") {
  gate_fixture g;
  auto c = g.hello("dialer", "n1");
  auto admitted =
      g.prove("dialer", cluster::proof(secret, cluster::role::dialer, "dialer", "n1", c.nonce));
  REQUIRE(admitted);
  CHECK(*admitted == caf::actor_cast<caf::actor>(g.cluster));
  CHECK(g.cluster_told_of("dialer", 2s));
}

TEST_CASE("the gate refuses a wrong proof, a replayed one and one without a hello") {
  gate_fixture g;
  auto c = g.hello("dialer", "n1");
  // Another secret.
  CHECK_FALSE(
      g.prove("dialer", cluster::proof("guess", cluster::role::dialer, "dialer", "n1", c.nonce)));
  // The challenge is spent by a failed attempt: the right proof for it no longer works.
  CHECK_FALSE(
      g.prove("dialer", cluster::proof(secret, cluster::role::dialer, "dialer", "n1", c.nonce)));
  // The gate's own proof reflected back, for a new challenge.
  auto c2 = g.hello("dialer", "n2");
  CHECK_FALSE(g.prove("dialer", c2.proof));
  // Another name than the hello's.
  auto c3 = g.hello("dialer", "n3");
  CHECK_FALSE(
      g.prove("someone", cluster::proof(secret, cluster::role::dialer, "someone", "n3", c3.nonce)));
  // No hello at all.
  CHECK_FALSE(g.prove("dialer", "00"));
  CHECK_FALSE(g.cluster_told_of("dialer", 200ms));
}
