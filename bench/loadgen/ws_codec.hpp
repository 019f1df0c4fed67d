// The client side of RFC 6455 without I/O: the opening handshake's request and status line, the
// headers of server frames, masked client frames. ws_client does the I/O on top of it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

enum class ws_opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xa,
};

struct ws_frame_header {
  ws_opcode opcode = ws_opcode::continuation;
  bool fin = false;
  std::size_t header_size = 0;  // the payload starts here
  std::uint64_t payload_size = 0;
};

enum class ws_decode { incomplete, ok, protocol_error };

// Decodes the header of the server frame at the start of `data`. A protocol error is a masked
// frame, an RSV bit (no extension is negotiated), an unknown opcode, a fragmented or long control
// frame, or a 64-bit length with its top bit set.
ws_decode decode_ws_header(std::string_view data, ws_frame_header& header);

// One final (FIN) client frame, its payload masked with `mask_key` as RFC 6455 requires.
std::string encode_ws_frame(ws_opcode opcode, std::string_view payload, std::uint32_t mask_key);

// The close frame's payload: the status code, big-endian.
std::string ws_close_payload(std::uint16_t code);

// The upgrade request; `key` are the 16 random bytes of Sec-WebSocket-Key.
std::string ws_handshake_request(std::string_view host, std::string_view target,
                                 const std::array<std::uint8_t, 16>& key);

// Whether the response's status line is "HTTP/1.1 101 ...".
bool is_ws_switching_protocols(std::string_view status_line);

}  // namespace bench
