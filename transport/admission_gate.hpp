#pragma once
// Transport-internal: the connection caps, shared by the network threads. A connection that is
// admitted holds a ticket; the count goes down when its ticket is dropped.
#include "core/admission.hpp"

#include <memory>
#include <mutex>
#include <string_view>

namespace beryl {

class admission_gate : public std::enable_shared_from_this<admission_gate> {
 public:
  explicit admission_gate(connection_limits limits) : counts_(limits) {}

  struct outcome {
    admission::verdict verdict;
    std::shared_ptr<const void> ticket;  // set when admitted
    // The HTTP status a refused client gets: 503 at the total cap, 429 at its address's.
    unsigned status() const { return verdict == admission::verdict::over_address ? 429 : 503; }
  };
  outcome admit(std::string_view address);

  std::size_t admitted() const;

 private:
  mutable std::mutex mutex_;
  admission counts_;
};

}  // namespace beryl
