#include "core/ws_frame.hpp"

#include "core/close_code.hpp"

#include <cstring>

namespace beryl::ws {
namespace {

using close_code::protocol_error;
using close_code::too_big;
constexpr std::uint16_t no_status = 1005;
constexpr std::size_t max_control_payload = 125;
// Buffers grown past this by one large message are released once it has been handled.
constexpr std::size_t keep_capacity = 4096;

bool is_control(std::uint8_t op) {
  return op >= 0x8;
}
bool is_known(std::uint8_t op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

}  // namespace

std::size_t server_header(opcode op, std::uint64_t size, unsigned char* out) {
  out[0] = 0x80 | static_cast<unsigned char>(op);
  if (size < 126) {
    out[1] = static_cast<unsigned char>(size);
    return 2;
  }
  if (size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(size >> 8);
    out[3] = static_cast<unsigned char>(size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<unsigned char>(size >> (56 - 8 * i));
  return 10;
}

std::string server_frame(opcode op, std::string_view payload) {
  unsigned char header[max_header_size];
  auto n = server_header(op, payload.size(), header);
  std::string out(reinterpret_cast<char*>(header), n);
  out += payload;
  return out;
}

std::string close_frame(std::uint16_t code, std::string_view reason) {
  std::string body;
  body.push_back(static_cast<char>(code >> 8));
  body.push_back(static_cast<char>(code & 0xFF));
  body += reason.substr(0, max_control_payload - 2);
  return server_frame(opcode::close, body);
}

std::uint16_t decoder::feed(char* data, std::size_t size, handler& h) {
  if (closed_ || error_) return error_;
  if (!carry_ || carry_->partial.empty()) {
    auto used = decode_frames(data, data + size, h);
    if (!error_ && !closed_ && used < size) carried().partial.assign(data + used, size - used);
    drop_carry_if_empty();
    return error_;
  }
  auto& partial = carry_->partial;
  partial.append(data, size);
  auto used = decode_frames(partial.data(), partial.data() + partial.size(), h);
  if (error_ || closed_) return error_;
  partial.erase(0, used);
  release_if_large(partial);
  drop_carry_if_empty();
  return error_;
}

decoder::carry& decoder::carried() {
  if (!carry_) carry_ = std::make_unique<carry>();
  return *carry_;
}

void decoder::drop_carry_if_empty() {
  if (carry_ && carry_->partial.empty() && carry_->message.empty()) carry_.reset();
}

std::size_t decoder::decode_frames(char* begin, char* end, handler& h) {
  char* p = begin;
  while (!closed_ && !error_) {
    auto available = static_cast<std::size_t>(end - p);
    if (available < 2) break;
    auto b0 = static_cast<std::uint8_t>(p[0]);
    auto b1 = static_cast<std::uint8_t>(p[1]);
    bool fin = b0 & 0x80;
    std::uint8_t op = b0 & 0x0F;
    // No extension is negotiated, so RSV bits must be clear; client frames must be masked.
    if ((b0 & 0x70) || !(b1 & 0x80) || !is_known(op)) {
      error_ = protocol_error;
      break;
    }
    std::uint64_t length = b1 & 0x7F;
    std::size_t header = 2;
    if (length == 126) {
      if (available < 4) break;
      length = (std::uint64_t(std::uint8_t(p[2])) << 8) | std::uint8_t(p[3]);
      header = 4;
    } else if (length == 127) {
      if (available < 10) break;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | std::uint8_t(p[2 + i]);
      header = 10;
      if (length >> 63) {
        error_ = protocol_error;
        break;
      }
    }
    if (is_control(op) && (!fin || length > max_control_payload)) {
      error_ = protocol_error;
      break;
    }
    // Refuse an oversized message as soon as its header says so, before buffering it.
    std::uint64_t message_size = length + (op == 0x0 && carry_ ? carry_->message.size() : 0);
    if (!is_control(op) && message_size > max_message_size_) {
      error_ = too_big;
      break;
    }
    header += 4;  // the masking key
    if (available < header || available - header < length) break;
    const char* mask = p + header - 4;
    char* payload = p + header;
    for (std::uint64_t i = 0; i < length; ++i) payload[i] ^= mask[i & 3];
    dispatch(static_cast<opcode>(op), fin, std::string_view(payload, length), h);
    p = payload + length;
  }
  return static_cast<std::size_t>(p - begin);
}

void decoder::dispatch(opcode op, bool fin, std::string_view payload, handler& h) {
  switch (op) {
    case opcode::text:
    case opcode::binary:
      if (in_message_) {
        error_ = protocol_error;  // a new message while a fragmented one is unfinished
        return;
      }
      if (fin) {
        h.on_message(payload, op == opcode::binary);
        return;
      }
      in_message_ = true;
      message_binary_ = op == opcode::binary;
      carried().message.assign(payload);
      return;
    case opcode::continuation: {
      if (!in_message_) {
        error_ = protocol_error;
        return;
      }
      auto& message = carried().message;
      message.append(payload);
      if (fin) {
        in_message_ = false;
        h.on_message(message, message_binary_);
        message.clear();
        release_if_large(message);
      }
      return;
    }
    case opcode::ping:
      h.on_ping(payload);
      return;
    case opcode::pong:
      return;
    case opcode::close:
      closed_ = true;
      if (payload.empty()) {
        h.on_close(no_status, {});
      } else if (payload.size() == 1) {
        error_ = protocol_error;
      } else {
        auto code =
            static_cast<std::uint16_t>((std::uint8_t(payload[0]) << 8) | std::uint8_t(payload[1]));
        if (close_code::valid_from_peer(code))
          h.on_close(code, payload.substr(2));
        else
          error_ = protocol_error;  // never echoed back: the answer is 1002
      }
      return;
  }
}

void decoder::release_if_large(std::string& s) {
  if (s.empty() && s.capacity() > keep_capacity) std::string().swap(s);
}

}  // namespace beryl::ws
