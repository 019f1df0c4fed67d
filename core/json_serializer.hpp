#pragma once
// Phoenix wire formats (docs/protocol.md §2-3): V1 JSON objects, V2 JSON arrays plus V2 binary
// frames. Pure: no CAF, no Asio.
#include "core/serializer.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace beryl::wire {

class v1_serializer final : public serializer {
 public:
  std::string_view name() const override { return "V1"; }
  decode_result decode(std::string_view data, bool binary) const override;
  frame reply(const ref_t& join_ref, const ref_t& ref, std::string_view topic,
              std::string_view status, const payload& response) const override;
  frame push(const ref_t& join_ref, std::string_view topic, std::string_view event,
             const payload& body) const override;
  frame push_text(const ref_t& join_ref, std::string_view topic, std::string_view event,
                  std::shared_ptr<const std::string> object_text) const override;
  frame broadcast(std::string_view topic, std::string_view event,
                  const payload& body) const override;
  frame control(const ref_t& join_ref, std::string_view topic, std::string_view event,
                const boost::json::object& body) const override;
  bool supports_binary() const override { return false; }
};

class v2_serializer final : public serializer {
 public:
  std::string_view name() const override { return "V2"; }
  decode_result decode(std::string_view data, bool binary) const override;
  frame reply(const ref_t& join_ref, const ref_t& ref, std::string_view topic,
              std::string_view status, const payload& response) const override;
  frame push(const ref_t& join_ref, std::string_view topic, std::string_view event,
             const payload& body) const override;
  frame push_text(const ref_t& join_ref, std::string_view topic, std::string_view event,
                  std::shared_ptr<const std::string> object_text) const override;
  frame broadcast(std::string_view topic, std::string_view event,
                  const payload& body) const override;
  frame control(const ref_t& join_ref, std::string_view topic, std::string_view event,
                const boost::json::object& body) const override;
  bool supports_binary() const override { return true; }
};

// A V2 binary frame the server wrote (docs/protocol.md §3.1), read as phoenix.js reads it: a
// push, a reply (event phx_reply, its status apart and its bytes as the body) or a broadcast.
// nullopt for a frame shorter than its header or of another kind.
struct server_binary {
  message m;
  std::string reply_status;  // replies only
};
std::optional<server_binary> decode_server_binary(std::string_view frame);

// Whom a V2 binary reply frame answers; nullopt for any other frame. Long-poll carries only text,
// so it answers that push with an error reply instead (§8.5).
struct reply_address {
  ref_t join_ref;
  ref_t ref;
  std::string topic;
};
std::optional<reply_address> binary_reply_address(std::string_view frame);

// The serializer for a connect's `vsn` parameter: absent means V1, "~> 1.0.0" V1, "~> 2.0.0" V2.
// nullptr when the version is unparsable or unsupported (the connect is refused).
const serializer* serializer_for_vsn(const std::string* vsn);

}  // namespace beryl::wire
