#pragma once
// An encoded message ready for a transport. The bytes are shared: a broadcast is encoded once and
// the same buffer is queued for every subscriber.
#include <memory>
#include <string>

namespace beryl {

struct frame {
  std::shared_ptr<const std::string> bytes;
  bool binary = false;

  static frame text(std::string s) {
    return {std::make_shared<const std::string>(std::move(s)), false};
  }
  static frame bin(std::string s) {
    return {std::make_shared<const std::string>(std::move(s)), true};
  }
};

}  // namespace beryl
