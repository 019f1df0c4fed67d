#pragma once
// An encoded message ready for a transport. The bytes are shared: a broadcast is encoded once and
// the same buffer is queued for every subscriber. A frame may also end in a body shared with other
// frames (a topic's presence_state, encoded once for every joiner): `bytes` is then the frame's
// own beginning, written before `shared_body`, and `after_body` closes it.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace beryl {

struct frame {
  std::shared_ptr<const std::string> bytes;
  bool binary = false;
  std::shared_ptr<const std::string> shared_body{};  // null: `bytes` is the whole frame
  std::string_view after_body{};                     // static text, e.g. "]"

  static frame text(std::string s) {
    return {std::make_shared<const std::string>(std::move(s)), false};
  }
  static frame bin(std::string s) {
    return {std::make_shared<const std::string>(std::move(s)), true};
  }
  static frame text_around(std::string head, std::shared_ptr<const std::string> body,
                           std::string_view tail) {
    return {std::make_shared<const std::string>(std::move(head)), false, std::move(body), tail};
  }

  std::size_t size() const {
    return bytes->size() + (shared_body ? shared_body->size() + after_body.size() : 0);
  }
  // The frame in one string: for transports and tests that need it contiguous.
  std::string contents() const {
    if (!shared_body) return *bytes;
    std::string out;
    out.reserve(size());
    out.append(*bytes).append(*shared_body).append(after_body);
    return out;
  }
};

}  // namespace beryl
