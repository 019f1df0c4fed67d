#pragma once
// Random input for the fuzz tests. Each run draws a new seed (or takes BERYL_FUZZ_SEED) and every
// test case reports it on failure, so a failing case replays with the same seed.
#include <boost/json/value.hpp>

#include <cstdint>
#include <random>
#include <string>

namespace beryl::fuzz {

// The run's seed: BERYL_FUZZ_SEED if set, otherwise drawn once per process.
std::uint64_t seed();

// Rounds per property: `base`, multiplied by BERYL_FUZZ_SCALE (default 1) for longer runs.
int rounds(int base);

class rng {
 public:
  explicit rng(std::uint64_t seed) : gen_(seed) {}

  // Uniform in [lo, hi].
  std::size_t between(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(gen_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(gen_); }
  unsigned char byte() { return static_cast<unsigned char>(between(0, 255)); }
  // A finite double of any magnitude, from random bits (denormals and -0 included).
  double finite_double();

  std::string bytes(std::size_t max_size);
  // Valid UTF-8 of up to `max_chars` code points, biased towards what needs escaping in JSON
  // (quotes, backslashes, control characters) and towards multi-byte sequences.
  std::string utf8(std::size_t max_chars);
  // Any JSON value, nested up to `depth`.
  boost::json::value json(int depth);
  boost::json::object object(int depth);

 private:
  std::mt19937_64 gen_;
};

}  // namespace beryl::fuzz
