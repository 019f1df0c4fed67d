// Latency histogram with log-linear buckets (like HdrHistogram): 64 sub-buckets per power of
// two, so any recorded value is reported within 1.6 %, in constant memory.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <vector>

namespace bench {

class histogram {
 public:
  histogram();

  void record(std::int64_t value_ns);
  void merge(const histogram& other);

  std::uint64_t count() const { return count_; }
  std::int64_t min() const { return count_ ? min_ : 0; }
  std::int64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The value at or below which `pct` percent of the samples lie (0 when empty).
  std::int64_t percentile(double pct) const;

  // {"count", "min_us", "p50_us", ..., "buckets": [[upper_us, count], ...]}; the buckets feed
  // the report's latency chart and let a coordinator merge worker histograms.
  boost::json::object to_json() const;
  static histogram from_json(const boost::json::value& v);

 private:
  static std::size_t index_of(std::int64_t value);
  static std::int64_t upper_of(std::size_t index);

  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  std::int64_t sum_ = 0;
};

}  // namespace bench
