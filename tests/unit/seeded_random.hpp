#pragma once
// Seeded randomness for the property tests: a run's seed is printed on failure, and
// BERYL_PROPERTY_SEED=<seed> makes it the first run's seed, to replay it.
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace beryl::testing {

// The seed of the `run`-th random run: `default_base + run`, or from BERYL_PROPERTY_SEED on.
inline std::uint64_t run_seed(std::uint64_t run, std::uint64_t default_base) {
  const char* text = std::getenv("BERYL_PROPERTY_SEED");
  return (text ? std::strtoull(text, nullptr, 0) : default_base) + run;
}

// SplitMix64.
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool percent(unsigned p) { return below(100) < p; }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

 private:
  std::uint64_t state_;
};

}  // namespace beryl::testing
