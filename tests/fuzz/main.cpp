// The fuzz tests' runner: doctest, with the run's seed printed first so a failure can be replayed
// with BERYL_FUZZ_SEED.
#define DOCTEST_CONFIG_IMPLEMENT
#include "fuzz_support.hpp"

#include <doctest/doctest.h>

#include <cstdio>

int main(int argc, char** argv) {
  std::fprintf(stderr, "fuzz seed %llu (replay with BERYL_FUZZ_SEED=%llu)\n",
               static_cast<unsigned long long>(beryl::fuzz::seed()),
               static_cast<unsigned long long>(beryl::fuzz::seed()));
  doctest::Context context(argc, argv);
  return context.run();
}
