#pragma once
// Memory for one pending asynchronous operation, kept inside the object that starts it.
//
// An idle connection always has a read pending. Asio allocates each operation through a per-thread
// cache that hands out whatever block an earlier operation left (an accept, an HTTP read), often
// twice the read's size; that block then stays with the idle connection. A handler that names an
// op_slot's allocator has its operation built in the slot instead: no block of its own. A chain
// that holds one operation at a time (a read that starts the next read when it ends) needs one
// slot; anything larger than the slot, or started while it is taken (a TLS read's operations),
// gets what it would have got without the slot: Asio's per-thread cache.
//
// Used on one thread (the connection's executor). Asio frees an operation's memory before it calls
// the handler, while the handler's copy still holds the slot's owner alive.
#include <boost/asio/recycling_allocator.hpp>

#include <cstddef>

namespace beryl {

template <std::size_t Size>
class op_slot {
 public:
  op_slot() = default;
  op_slot(const op_slot&) = delete;
  op_slot& operator=(const op_slot&) = delete;

  void* allocate(std::size_t size) {
    if (taken_ || size > Size) return elsewhere().allocate(size);
    taken_ = true;
    return storage_;
  }

  void deallocate(void* p, std::size_t size) {
    if (p == storage_)
      taken_ = false;
    else
      elsewhere().deallocate(static_cast<unsigned char*>(p), size);
  }

  // The allocator a handler returns from get_allocator().
  template <class T>
  class allocator {
   public:
    using value_type = T;

    explicit allocator(op_slot& slot) : slot_(&slot) {}
    template <class U>
    allocator(const allocator<U>& other) : slot_(other.slot_) {}

    T* allocate(std::size_t n) { return static_cast<T*>(slot_->allocate(sizeof(T) * n)); }
    void deallocate(T* p, std::size_t n) { slot_->deallocate(p, sizeof(T) * n); }

    template <class U>
    bool operator==(const allocator<U>& other) const {
      return slot_ == other.slot_;
    }
    template <class U>
    bool operator!=(const allocator<U>& other) const {
      return slot_ != other.slot_;
    }

   private:
    template <class>
    friend class allocator;
    op_slot* slot_;
  };

 private:
  static boost::asio::recycling_allocator<unsigned char> elsewhere() { return {}; }

  alignas(std::max_align_t) unsigned char storage_[Size];
  bool taken_ = false;
};

}  // namespace beryl
