#include "histogram.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

namespace bench {
namespace {

constexpr int sub_bucket_bits = 6;  // 64 sub-buckets per power of two
constexpr std::size_t sub_buckets = std::size_t{1} << sub_bucket_bits;
constexpr int max_exponent = 40;  // values up to ~1100 s in ns

double to_us(std::int64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

}  // namespace

histogram::histogram() : buckets_(sub_buckets * (max_exponent + 1), 0) {}

std::size_t histogram::index_of(std::int64_t value) {
  if (value < static_cast<std::int64_t>(sub_buckets))
    return static_cast<std::size_t>(std::max<std::int64_t>(value, 0));
  const int msb = 63 - __builtin_clzll(static_cast<unsigned long long>(value));
  const int shift = msb - sub_bucket_bits;
  const std::size_t sub = static_cast<std::size_t>(value >> shift) - sub_buckets;
  const std::size_t index = static_cast<std::size_t>(shift + 1) * sub_buckets + sub;
  return std::min(index, sub_buckets * (max_exponent + 1) - 1);
}

std::int64_t histogram::upper_of(std::size_t index) {
  if (index < sub_buckets) return static_cast<std::int64_t>(index);
  const int shift = static_cast<int>(index / sub_buckets) - 1;
  const std::int64_t sub = static_cast<std::int64_t>(index % sub_buckets + sub_buckets);
  return ((sub + 1) << shift) - 1;
}

void histogram::record(std::int64_t value_ns) {
  value_ns = std::max<std::int64_t>(value_ns, 0);
  ++buckets_[index_of(value_ns)];
  min_ = count_ ? std::min(min_, value_ns) : value_ns;
  max_ = std::max(max_, value_ns);
  sum_ += value_ns;
  ++count_;
}

void histogram::merge(const histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  count_ += other.count_;
}

std::int64_t histogram::percentile(double pct) const {
  if (count_ == 0) return 0;
  const auto rank =
      static_cast<std::uint64_t>(std::ceil(pct / 100.0 * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(upper_of(i), max_);
  }
  return max_;
}

boost::json::object histogram::to_json() const {
  boost::json::array buckets;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] != 0) buckets.push_back(boost::json::array{to_us(upper_of(i)), buckets_[i]});
  }
  return {{"count", count_},
          {"min_us", to_us(min())},
          {"mean_us", mean() / 1000.0},
          {"p50_us", to_us(percentile(50))},
          {"p90_us", to_us(percentile(90))},
          {"p95_us", to_us(percentile(95))},
          {"p99_us", to_us(percentile(99))},
          {"p999_us", to_us(percentile(99.9))},
          {"max_us", to_us(max_)},
          {"sum_us", to_us(sum_)},
          {"buckets", std::move(buckets)}};
}

histogram histogram::from_json(const boost::json::value& v) {
  histogram h;
  const auto& obj = v.as_object();
  for (const auto& bucket : obj.at("buckets").as_array()) {
    const auto& pair = bucket.as_array();
    const auto upper_ns =
        static_cast<std::int64_t>(std::llround(pair[0].to_number<double>() * 1000.0));
    h.buckets_[index_of(upper_ns)] += pair[1].to_number<std::uint64_t>();
  }
  h.count_ = obj.at("count").to_number<std::uint64_t>();
  h.min_ = std::llround(obj.at("min_us").to_number<double>() * 1000.0);
  h.max_ = std::llround(obj.at("max_us").to_number<double>() * 1000.0);
  h.sum_ = std::llround(obj.at("sum_us").to_number<double>() * 1000.0);
  return h;
}

}  // namespace bench
