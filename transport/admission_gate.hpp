#pragma once
// Transport-internal: the connection caps, shared by the network threads. A connection that is
// admitted holds a ticket; the count goes down when its ticket is dropped.
#include "core/admission.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace beryl {

class admission_gate : public std::enable_shared_from_this<admission_gate> {
 public:
  explicit admission_gate(connection_limits limits) : counts_(limits) {}

  // A connection's place under the caps, given back when the ticket goes. It keeps the gate alive
  // (a connection may outlive the listener that admitted it), and the address only when there is
  // a cap per address. Held inside the connection: no block of its own.
  class ticket {
   public:
    ticket() = default;
    ticket(ticket&&) noexcept = default;
    ticket& operator=(ticket&& other) noexcept;
    ~ticket() { give_back(); }

    explicit operator bool() const { return gate_ != nullptr; }

   private:
    friend class admission_gate;
    ticket(std::shared_ptr<admission_gate> gate, std::unique_ptr<std::string> address)
        : gate_(std::move(gate)), address_(std::move(address)) {}
    void give_back();

    std::shared_ptr<admission_gate> gate_;
    std::unique_ptr<std::string> address_;
  };

  struct outcome {
    admission::verdict verdict;
    admission_gate::ticket ticket;  // set when admitted
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
