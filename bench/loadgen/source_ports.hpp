// Hands out local ports for outgoing connections. With tens of thousands of connections to one
// server address, the kernel's own ephemeral-port search (__inet_hash_connect) goes quadratic and
// ate most of the generator's CPU; binding each socket to a port we pick ourselves avoids it.
// Each generator process gets its own range, so processes never compete for a port.
#pragma once

#include <cstdint>

namespace bench {

class source_port_range {
 public:
  source_port_range(std::uint16_t first, std::uint16_t last)
      : first_(first), last_(last), next_(first) {}

  // The next port of the range, round robin: a port comes back only after all others were used.
  std::uint16_t next() {
    const std::uint16_t port = next_;
    next_ = next_ == last_ ? first_ : static_cast<std::uint16_t>(next_ + 1);
    return port;
  }
  std::uint32_t size() const { return last_ - first_ + 1u; }

 private:
  std::uint16_t first_;
  std::uint16_t last_;
  std::uint16_t next_;
};

}  // namespace bench
