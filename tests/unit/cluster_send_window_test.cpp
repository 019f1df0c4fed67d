#include "core/cluster/send_window.hpp"

#include <doctest/doctest.h>

using beryl::cluster::send_window;

TEST_CASE("a send window takes messages up to its limit of unacknowledged bytes") {
  send_window w{1000};
  CHECK(w.try_send(600));
  CHECK(w.try_send(400));
  CHECK(w.in_flight() == 1000);
  CHECK_FALSE(w.try_send(1));  // full: not counted
  CHECK(w.in_flight() == 1000);
  w.acknowledged(600);
  CHECK(w.in_flight() == 400);
  CHECK_FALSE(w.try_send(601));
  CHECK(w.try_send(600));
}

TEST_CASE("acknowledgements never go back, nor beyond what was sent") {
  send_window w{100};
  CHECK(w.try_send(80));
  w.acknowledged(50);
  w.acknowledged(20);  // an older heartbeat, late
  CHECK(w.in_flight() == 30);
  w.acknowledged(1'000'000);  // a peer claiming more than it was sent
  CHECK(w.in_flight() == 0);
  CHECK(w.try_send(100));
  CHECK_FALSE(w.try_send(1));
}
