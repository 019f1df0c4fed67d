#pragma once
// RFC 6455 framing for the server side: decoding masked client frames (with fragmented messages
// and control frames) and encoding unmasked server frames. Pure: no Asio, so it is unit-tested and
// fuzzed alone. Beast parses the HTTP upgrade; after it, this codec owns the bytes, which lets a
// connection send every queued frame in one gathered write and hold no read buffer while idle.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace beryl::ws {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline constexpr std::size_t max_header_size = 10;

// Writes the header of an unmasked, final server frame into `out`; returns its length (2-10).
std::size_t server_header(opcode op, std::uint64_t payload_size, unsigned char* out);

// A complete server frame (header + payload), for control frames and tests.
std::string server_frame(opcode op, std::string_view payload);

// A complete close frame; the reason is cut to fit the 125-byte control payload.
std::string close_frame(std::uint16_t code, std::string_view reason);

class decoder {
 public:
  struct handler {
    virtual ~handler() = default;
    virtual void on_message(std::string_view data, bool binary) = 0;
    virtual void on_ping(std::string_view data) = 0;
    // A close frame arrived: `code` 1005 when it carried none. Nothing after it is decoded.
    virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
  };

  // Messages (after reassembly) larger than `max_message_size` are refused with 1009.
  explicit decoder(std::size_t max_message_size) : max_message_size_(max_message_size) {}

  // Decodes the frames in `data` (unmasked in place) and reports them to `h`. Returns 0, or the
  // close code (1002 protocol error, 1009 too big) with which the connection must be closed.
  std::uint16_t feed(char* data, std::size_t size, handler& h);

  // Whether bytes of an unfinished frame or message are held.
  bool idle() const { return !in_message_ && (!carry_ || carry_->partial.empty()); }
  // Whether it holds memory for what a feed left over (none between messages).
  bool holds_buffer() const { return carry_ != nullptr; }
  // Bytes held for an unfinished frame or message.
  std::size_t buffered() const {
    return carry_ ? carry_->partial.size() + carry_->message.size() : 0;
  }

 private:
  // Decodes whole frames from [begin, end); returns bytes consumed or sets `error_`.
  std::size_t decode_frames(char* begin, char* end, handler& h);
  void dispatch(opcode op, bool fin, std::string_view payload, handler& h);
  void release_if_large(std::string& s);

  // What one feed leaves to the next. Made when something is left and dropped once both are
  // empty again, so a decoder between messages (an idle connection's) holds no buffer at all.
  struct carry {
    std::string partial;  // an incomplete frame
    std::string message;  // the fragments of an unfinished message
  };
  carry& carried();
  void drop_carry_if_empty();

  std::size_t max_message_size_;
  std::unique_ptr<carry> carry_;
  bool in_message_ = false;
  bool message_binary_ = false;
  bool closed_ = false;
  std::uint16_t error_ = 0;
};

}  // namespace beryl::ws
