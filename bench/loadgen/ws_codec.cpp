#include "ws_codec.hpp"

namespace bench {
namespace {

constexpr std::uint8_t fin_bit = 0x80;
constexpr std::uint8_t rsv_bits = 0x70;
constexpr std::uint8_t mask_bit = 0x80;
constexpr std::uint8_t control_bit = 0x08;
constexpr std::uint8_t length_16 = 126;
constexpr std::uint8_t length_64 = 127;
constexpr std::uint64_t max_length_7 = 125;

bool is_known(std::uint8_t opcode) {
  switch (static_cast<ws_opcode>(opcode)) {
    case ws_opcode::continuation:
    case ws_opcode::text:
    case ws_opcode::binary:
    case ws_opcode::close:
    case ws_opcode::ping:
    case ws_opcode::pong:
      return true;
  }
  return false;
}

std::string base64(const std::array<std::uint8_t, 16>& bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    std::uint32_t group = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (left > 1) group |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (left > 2) group |= bytes[i + 2];
    out += alphabet[(group >> 18) & 0x3f];
    out += alphabet[(group >> 12) & 0x3f];
    out += left > 1 ? alphabet[(group >> 6) & 0x3f] : '=';
    out += left > 2 ? alphabet[group & 0x3f] : '=';
  }
  return out;
}

}  // namespace

ws_decode decode_ws_header(std::string_view data, ws_frame_header& header) {
  if (data.size() < 2) return ws_decode::incomplete;
  const auto* in = reinterpret_cast<const std::uint8_t*>(data.data());
  const std::uint8_t opcode = in[0] & 0x0f;
  const bool fin = (in[0] & fin_bit) != 0;
  const std::uint8_t length = in[1] & 0x7f;
  if ((in[0] & rsv_bits) != 0 || (in[1] & mask_bit) != 0 || !is_known(opcode))
    return ws_decode::protocol_error;
  if ((opcode & control_bit) != 0 && (!fin || length > max_length_7))
    return ws_decode::protocol_error;

  std::size_t header_size = 2;
  std::uint64_t payload_size = length;
  if (length == length_16) {
    header_size = 4;
    if (data.size() < header_size) return ws_decode::incomplete;
    payload_size = static_cast<std::uint64_t>(in[2]) << 8 | in[3];
  } else if (length == length_64) {
    header_size = 10;
    if (data.size() < header_size) return ws_decode::incomplete;
    payload_size = 0;
    for (std::size_t i = 2; i < header_size; ++i) payload_size = payload_size << 8 | in[i];
    if ((payload_size >> 63) != 0) return ws_decode::protocol_error;
  }
  header.opcode = static_cast<ws_opcode>(opcode);
  header.fin = fin;
  header.header_size = header_size;
  header.payload_size = payload_size;
  return ws_decode::ok;
}

std::string encode_ws_frame(ws_opcode opcode, std::string_view payload, std::uint32_t mask_key) {
  const std::size_t size = payload.size();
  std::size_t at = 2;
  if (size > 0xffff) {
    at += 8;
  } else if (size > max_length_7) {
    at += 2;
  }
  std::string frame(at + 4 + size, '\0');
  auto* out = reinterpret_cast<std::uint8_t*>(frame.data());
  out[0] = fin_bit | static_cast<std::uint8_t>(opcode);
  if (size > 0xffff) {
    out[1] = mask_bit | length_64;
    for (std::size_t i = 0; i < 8; ++i)
      out[2 + i] = static_cast<std::uint8_t>(size >> (56 - 8 * i));
  } else if (size > max_length_7) {
    out[1] = mask_bit | length_16;
    out[2] = static_cast<std::uint8_t>(size >> 8);
    out[3] = static_cast<std::uint8_t>(size);
  } else {
    out[1] = static_cast<std::uint8_t>(mask_bit | size);
  }
  const std::array<std::uint8_t, 4> mask = {
      static_cast<std::uint8_t>(mask_key >> 24), static_cast<std::uint8_t>(mask_key >> 16),
      static_cast<std::uint8_t>(mask_key >> 8), static_cast<std::uint8_t>(mask_key)};
  for (std::size_t i = 0; i < mask.size(); ++i) out[at++] = mask[i];
  const auto* in = reinterpret_cast<const std::uint8_t*>(payload.data());
  for (std::size_t i = 0; i < size; ++i) out[at + i] = in[i] ^ mask[i & 3];
  return frame;
}

std::string ws_close_payload(std::uint16_t code) {
  return {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}

std::string ws_handshake_request(std::string_view host, std::string_view target,
                                 const std::array<std::uint8_t, 16>& key) {
  std::string request;
  request.reserve(160 + host.size() + target.size());
  request.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
  request.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  request.append(base64(key)).append("\r\nSec-WebSocket-Version: 13\r\n\r\n");
  return request;
}

bool is_ws_switching_protocols(std::string_view status_line) {
  constexpr std::string_view expected = "HTTP/1.1 101";
  return status_line.substr(0, expected.size()) == expected &&
         (status_line.size() == expected.size() || status_line[expected.size()] == ' ');
}

}  // namespace bench
