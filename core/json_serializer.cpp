#include "core/json_serializer.hpp"

#include "core/exact_json.hpp"
#include "core/json_text.hpp"
#include "core/utf8.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <optional>
#include <stdexcept>
#include <vector>

namespace json = boost::json;

namespace beryl::wire {
namespace {

enum binary_kind : unsigned char { kind_push = 0, kind_reply = 1, kind_broadcast = 2 };

void append_ref(std::string& out, const ref_t& ref) {
  if (ref)
    append_json_string(out, *ref);
  else
    out += "null";
}

const json::value& json_of(const payload& p) {
  auto* v = std::get_if<json::value>(&p);
  if (!v) throw std::invalid_argument("a binary payload needs a binary-capable serializer");
  return *v;
}

// Server payloads must be JSON objects (docs/protocol.md §2.4).
const json::value& object_of(const payload& p) {
  const auto& v = json_of(p);
  if (!v.is_object()) throw std::invalid_argument("server payloads must be JSON objects");
  return v;
}

// A ref sent as a JSON number is kept as its text; refs are opaque to the server.
std::optional<decode_error> read_ref(const json::value& v, ref_t& out, const char* field) {
  if (v.is_null()) return std::nullopt;
  if (auto* s = v.if_string()) {
    out = std::string(*s);
    return std::nullopt;
  }
  if (v.is_int64() || v.is_uint64()) {
    out = json::serialize(v);
    return std::nullopt;
  }
  return decode_error{std::string(field) + " must be a string or null"};
}

// Kind byte, one length byte per field, then the fields (docs/protocol.md §3).
std::string binary_frame_start(
    std::initializer_list<std::pair<std::string_view, const char*>> fields, unsigned char kind) {
  std::string out;
  out.push_back(static_cast<char>(kind));
  for (auto& [value, name] : fields) {
    if (value.size() > 255)
      throw std::length_error(std::string("binary frame field '") + name + "' exceeds 255 bytes");
    out.push_back(static_cast<char>(value.size()));
  }
  for (auto& field : fields) out += field.first;
  return out;
}

std::string_view ref_or_empty(const ref_t& r) {
  return r ? std::string_view(*r) : std::string_view();
}

// The `count` length-prefixed fields after the kind byte (docs/protocol.md §3.1), and where the
// payload starts; nullopt when the frame is shorter than its header says.
std::optional<std::vector<std::string_view>> binary_fields(std::string_view data, std::size_t count,
                                                           std::size_t& payload_at) {
  if (data.size() < 1 + count) return std::nullopt;
  std::vector<std::string_view> fields;
  std::size_t at = 1 + count;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t size = static_cast<unsigned char>(data[1 + i]);
    if (data.size() < at + size) return std::nullopt;
    fields.push_back(data.substr(at, size));
    at += size;
  }
  payload_at = at;
  return fields;
}

decode_result decode_v2_binary(std::string_view data) {
  // client push: kind, join_ref_len, ref_len, topic_len, event_len, then the fields and payload
  if (data.empty()) return decode_error{"binary frame shorter than its header"};
  if (static_cast<unsigned char>(data[0]) != kind_push)
    return decode_error{"binary frame kind must be 0 (push)"};
  std::size_t payload_at = 0;
  auto fields = binary_fields(data, 4, payload_at);
  if (!fields) return decode_error{"binary frame shorter than its header fields"};
  // These fields are text (phoenix.js writes them with TextEncoder), and the server writes them
  // back into JSON text frames (replies, phx_error): they must be UTF-8 like a text frame.
  for (auto field : *fields)
    if (!utf8::valid(field)) return decode_error{"binary frame field is not UTF-8"};
  const auto& f = *fields;  // join_ref, ref, topic, event; a ref left out is an empty field
  message m;
  if (!f[0].empty()) m.join_ref = std::string(f[0]);
  if (!f[1].empty()) m.ref = std::string(f[1]);
  m.topic = std::string(f[2]);
  m.event = std::string(f[3]);
  m.body = binary{std::string(data.substr(payload_at))};
  return m;
}

std::optional<decode_error> parse_json(std::string_view data, json::value& out) {
  boost::system::error_code ec;
  out = parse_exact_json(data, ec);
  if (ec) return decode_error{"invalid JSON: " + ec.message()};
  return std::nullopt;
}

// The frames' JSON text up to the payload, which the caller appends in place.
std::string v1_head(std::string_view topic, std::string_view event) {
  std::string out;
  out.reserve(128 + topic.size() + event.size());
  out += "{\"topic\":";
  append_json_string(out, topic);
  out += ",\"event\":";
  append_json_string(out, event);
  out += ",\"payload\":";
  return out;
}

// What follows the payload of a V1 push, which has no ref.
constexpr std::string_view v1_push_tail = ",\"ref\":null}";

template <class WritePayload>
std::string v1_text(std::string_view topic, std::string_view event, const ref_t& ref,
                    WritePayload write_payload) {
  std::string out = v1_head(topic, event);
  write_payload(out);
  out += ",\"ref\":";
  append_ref(out, ref);
  out += '}';
  return out;
}

std::string v2_head(const ref_t& join_ref, const ref_t& ref, std::string_view topic,
                    std::string_view event) {
  std::string out;
  out.reserve(128 + topic.size() + event.size());
  out += '[';
  append_ref(out, join_ref);
  out += ',';
  append_ref(out, ref);
  out += ',';
  append_json_string(out, topic);
  out += ',';
  append_json_string(out, event);
  out += ',';
  return out;
}

template <class WritePayload>
std::string v2_text(const ref_t& join_ref, const ref_t& ref, std::string_view topic,
                    std::string_view event, WritePayload write_payload) {
  std::string out = v2_head(join_ref, ref, topic, event);
  write_payload(out);
  out += ']';
  return out;
}

// Payloads are written straight into `out`: no intermediate string on the per-message path.
template <class Json>
auto json_writer(const Json& v) {
  return [&v](std::string& out) { append_json(out, v); };
}

// A reply's payload: {"status": status, "response": response}.
auto reply_writer(std::string_view status, const json::value& response) {
  return [status, &response](std::string& out) {
    out += "{\"status\":";
    append_json_string(out, status);
    out += ",\"response\":";
    append_json(out, response);
    out += '}';
  };
}

}  // namespace

// ---------------------------------------------------------------------------------- V1

decode_result v1_serializer::decode(std::string_view data, bool binary) const {
  if (binary) return decode_error{"V1 has no binary frames"};
  json::value v;
  if (auto error = parse_json(data, v)) return *error;
  auto* obj = v.if_object();
  if (!obj) return decode_error{"V1 messages are JSON objects"};
  for (const char* key : {"topic", "event", "payload", "ref"})
    if (!obj->contains(key)) return decode_error{std::string("V1 message without '") + key + "'"};
  auto* topic = obj->at("topic").if_string();
  auto* event = obj->at("event").if_string();
  if (!topic || !event) return decode_error{"topic and event must be strings"};
  message m;
  if (auto error = read_ref(obj->at("ref"), m.ref, "ref")) return *error;
  if (auto it = obj->find("join_ref"); it != obj->end())
    if (auto error = read_ref(it->value(), m.join_ref, "join_ref")) return *error;
  m.topic = std::string(*topic);
  m.event = std::string(*event);
  m.body = std::move(obj->at("payload"));
  return m;
}

frame v1_serializer::reply(const ref_t&, const ref_t& ref, std::string_view topic,
                           std::string_view status, const payload& response) const {
  return frame::text(v1_text(topic, events::reply, ref, reply_writer(status, object_of(response))));
}

frame v1_serializer::push(const ref_t&, std::string_view topic, std::string_view event,
                          const payload& body) const {
  return frame::text(v1_text(topic, event, std::nullopt, json_writer(object_of(body))));
}

frame v1_serializer::push_text(const ref_t&, std::string_view topic, std::string_view event,
                               std::shared_ptr<const std::string> object_text) const {
  return frame::text_around(v1_head(topic, event), std::move(object_text), v1_push_tail);
}

frame v1_serializer::broadcast(std::string_view topic, std::string_view event,
                               const payload& body) const {
  return push(std::nullopt, topic, event, body);
}

frame v1_serializer::control(const ref_t&, std::string_view topic, std::string_view event,
                             const json::object& body) const {
  return frame::text(v1_text(topic, event, std::nullopt, json_writer(body)));
}

// ---------------------------------------------------------------------------------- V2

decode_result v2_serializer::decode(std::string_view data, bool binary) const {
  if (binary) return decode_v2_binary(data);
  json::value v;
  if (auto error = parse_json(data, v)) return *error;
  auto* arr = v.if_array();
  if (!arr) return decode_error{"V2 messages are JSON arrays"};
  if (arr->size() < 5) return decode_error{"V2 messages have 5 elements"};
  auto* topic = (*arr)[2].if_string();
  auto* event = (*arr)[3].if_string();
  if (!topic || !event) return decode_error{"topic and event must be strings"};
  message m;
  if (auto error = read_ref((*arr)[0], m.join_ref, "join_ref")) return *error;
  if (auto error = read_ref((*arr)[1], m.ref, "ref")) return *error;
  m.topic = std::string(*topic);
  m.event = std::string(*event);
  m.body = std::move((*arr)[4]);
  return m;
}

frame v2_serializer::reply(const ref_t& join_ref, const ref_t& ref, std::string_view topic,
                           std::string_view status, const payload& response) const {
  if (auto* bin = std::get_if<binary>(&response)) {
    auto out = binary_frame_start({{ref_or_empty(join_ref), "join_ref"},
                                   {ref_or_empty(ref), "ref"},
                                   {topic, "topic"},
                                   {status, "status"}},
                                  kind_reply);
    out += bin->bytes;
    return frame::bin(std::move(out));
  }
  return frame::text(
      v2_text(join_ref, ref, topic, events::reply, reply_writer(status, object_of(response))));
}

frame v2_serializer::push(const ref_t& join_ref, std::string_view topic, std::string_view event,
                          const payload& body) const {
  if (auto* bin = std::get_if<binary>(&body)) {
    auto out = binary_frame_start(
        {{ref_or_empty(join_ref), "join_ref"}, {topic, "topic"}, {event, "event"}}, kind_push);
    out += bin->bytes;
    return frame::bin(std::move(out));
  }
  return frame::text(v2_text(join_ref, std::nullopt, topic, event, json_writer(object_of(body))));
}

frame v2_serializer::push_text(const ref_t& join_ref, std::string_view topic,
                               std::string_view event,
                               std::shared_ptr<const std::string> object_text) const {
  return frame::text_around(v2_head(join_ref, std::nullopt, topic, event), std::move(object_text),
                            "]");
}

frame v2_serializer::broadcast(std::string_view topic, std::string_view event,
                               const payload& body) const {
  if (auto* bin = std::get_if<binary>(&body)) {
    auto out = binary_frame_start({{topic, "topic"}, {event, "event"}}, kind_broadcast);
    out += bin->bytes;
    return frame::bin(std::move(out));
  }
  return frame::text(
      v2_text(std::nullopt, std::nullopt, topic, event, json_writer(object_of(body))));
}

frame v2_serializer::control(const ref_t& join_ref, std::string_view topic, std::string_view event,
                             const json::object& body) const {
  return frame::text(v2_text(join_ref, join_ref, topic, event, json_writer(body)));
}

std::optional<server_binary> decode_server_binary(std::string_view frame) {
  if (frame.empty()) return std::nullopt;
  // Fields after the kind byte: push (join_ref, topic, event), reply (join_ref, ref, topic,
  // status), broadcast (topic, event).
  std::size_t count = 0;
  const auto kind = static_cast<unsigned char>(frame[0]);
  switch (kind) {
    case kind_push:
      count = 3;
      break;
    case kind_reply:
      count = 4;
      break;
    case kind_broadcast:
      count = 2;
      break;
    default:
      return std::nullopt;
  }
  std::size_t payload_at = 0;
  auto fields = binary_fields(frame, count, payload_at);
  if (!fields) return std::nullopt;
  auto optional_ref = [](std::string_view r) { return r.empty() ? ref_t() : ref_t(r); };
  const auto& f = *fields;
  server_binary out;
  out.m.body = binary{std::string(frame.substr(payload_at))};
  if (kind == kind_push) {
    out.m.join_ref = optional_ref(f[0]);
    out.m.topic = std::string(f[1]);
    out.m.event = std::string(f[2]);
  } else if (kind == kind_reply) {
    out.m.join_ref = optional_ref(f[0]);
    out.m.ref = optional_ref(f[1]);
    out.m.topic = std::string(f[2]);
    out.m.event = events::reply;
    out.reply_status = std::string(f[3]);
  } else {
    out.m.topic = std::string(f[0]);
    out.m.event = std::string(f[1]);
  }
  return out;
}

std::optional<reply_address> binary_reply_address(std::string_view frame) {
  if (frame.empty() || static_cast<unsigned char>(frame[0]) != kind_reply) return std::nullopt;
  auto decoded = decode_server_binary(frame);
  if (!decoded) return std::nullopt;
  return reply_address{std::move(decoded->m.join_ref), std::move(decoded->m.ref),
                       std::move(decoded->m.topic)};
}

// ---------------------------------------------------------------------------------- vsn

namespace {

// "X.Y.Z" with an optional "-pre" or "+build" suffix; false when unparsable.
bool parse_semver(std::string_view s, unsigned& major, unsigned& minor) {
  unsigned parts[3];
  const char* p = s.data();
  const char* end = s.data() + s.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc{} || next == p) return false;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') return false;
      ++p;
    }
  }
  if (p != end && *p != '-' && *p != '+') return false;
  major = parts[0];
  minor = parts[1];
  return true;
}

}  // namespace

const serializer* serializer_for_vsn(const std::string* vsn) {
  static const v1_serializer v1;
  static const v2_serializer v2;
  if (!vsn) return &v1;
  unsigned major = 0, minor = 0;
  if (!parse_semver(*vsn, major, minor) || minor != 0) return nullptr;
  if (major == 1) return &v1;
  if (major == 2) return &v2;
  return nullptr;
}

}  // namespace beryl::wire
