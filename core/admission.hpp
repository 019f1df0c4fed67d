#pragma once
// Connection caps (`--max-connections`, `--max-connections-per-ip`): how many real-time clients
// (WebSocket connections and long-poll sessions) are open, in all and per client address. Pure
// and single-threaded: the transport guards it with a mutex and answers 503 or 429 before the
// upgrade when `admit` refuses.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace beryl {

struct connection_limits {
  std::size_t total = 0;        // 0: no cap
  std::size_t per_address = 0;  // 0: no cap
};

class admission {
 public:
  enum class verdict { admitted, over_total, over_address };

  explicit admission(connection_limits limits) : limits_(limits) {}

  // Counts a new connection from `address` unless a cap is reached.
  verdict admit(std::string_view address);
  // A connection admitted for `address` ended.
  void release(std::string_view address);

  std::size_t total() const { return total_; }
  // Whether release() needs the address (only with a cap per address).
  bool counts_addresses() const { return limits_.per_address != 0; }
  std::size_t from(std::string_view address) const;

 private:
  connection_limits limits_;
  std::size_t total_ = 0;
  // Only addresses with open connections, and only while a per-address cap is set.
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace beryl
