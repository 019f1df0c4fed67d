#include "core/admission.hpp"

#include <doctest/doctest.h>

using namespace beryl;

TEST_CASE("admission: the total cap refuses the connection past it until one leaves") {
  admission gate({3, 0});
  for (int i = 0; i < 3; ++i) CHECK(gate.admit("10.0.0.1") == admission::verdict::admitted);
  CHECK(gate.admit("10.0.0.2") == admission::verdict::over_total);
  CHECK(gate.total() == 3);
  gate.release("10.0.0.1");
  CHECK(gate.admit("10.0.0.2") == admission::verdict::admitted);
  CHECK(gate.total() == 3);
}

TEST_CASE("admission: the per-address cap counts each address apart") {
  admission gate({0, 2});
  CHECK(gate.admit("10.0.0.1") == admission::verdict::admitted);
  CHECK(gate.admit("10.0.0.1") == admission::verdict::admitted);
  CHECK(gate.admit("10.0.0.1") == admission::verdict::over_address);
  CHECK(gate.admit("10.0.0.2") == admission::verdict::admitted);
  CHECK(gate.from("10.0.0.1") == 2);
  CHECK(gate.from("10.0.0.2") == 1);
  CHECK(gate.total() == 3);  // a refused connection is not counted
  gate.release("10.0.0.1");
  CHECK(gate.from("10.0.0.1") == 1);
  CHECK(gate.admit("10.0.0.1") == admission::verdict::admitted);
}

TEST_CASE("admission: an address with no connections left holds no entry") {
  admission gate({0, 5});
  CHECK(gate.admit("10.0.0.1") == admission::verdict::admitted);
  gate.release("10.0.0.1");
  CHECK(gate.from("10.0.0.1") == 0);
  CHECK(gate.total() == 0);
}

TEST_CASE("admission: the total cap is checked before the address's") {
  admission gate({1, 1});
  CHECK(gate.admit("10.0.0.1") == admission::verdict::admitted);
  CHECK(gate.admit("10.0.0.1") == admission::verdict::over_total);
  CHECK(gate.admit("10.0.0.2") == admission::verdict::over_total);
  CHECK(gate.from("10.0.0.2") == 0);
}
