// The Phoenix serializers against random messages: what a client encodes (V1 objects, V2 arrays,
// V2 binary frames built from docs/protocol.md §3) decodes to the same fields; what the server
// encodes parses back (with Boost.JSON, or by the §3 layout) to what it was given; and any other
// input is either a message or a decode error, never an exception or a crash.
#include "core/exact_json.hpp"
#include "core/json_serializer.hpp"
#include "core/utf8.hpp"
#include "fuzz_support.hpp"

#include <doctest/doctest.h>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace json = boost::json;
using namespace beryl;
using beryl::fuzz::rng;

namespace {

const serializer& v1() {
  return *wire::serializer_for_vsn(nullptr);
}
const serializer& v2() {
  static const std::string vsn = "2.0.0";
  return *wire::serializer_for_vsn(&vsn);
}

ref_t random_ref(rng& r) {
  if (r.chance(0.3)) return std::nullopt;
  auto s = r.utf8(8);
  if (s.empty()) s = "0";
  return s;
}

json::value ref_json(const ref_t& ref) {
  return ref ? json::value(json::string(*ref)) : json::value(nullptr);
}

// A string field of a binary frame: at most 255 bytes, whole UTF-8 characters.
std::string short_field(rng& r) {
  for (;;) {
    auto s = r.utf8(40);
    if (s.size() <= 255) return s;
  }
}

std::string binary_client_push(const ref_t& join_ref, const ref_t& ref, const std::string& topic,
                               const std::string& event, const std::string& body) {
  std::string out(1, '\0');
  const std::string fields[] = {join_ref.value_or(""), ref.value_or(""), topic, event};
  for (const auto& f : fields) out += static_cast<char>(f.size());
  for (const auto& f : fields) out += f;
  return out + body;
}

// Splits a server binary frame by the §3 layout: kind, then `count` length-prefixed fields.
std::pair<std::vector<std::string>, std::string> split_binary(const std::string& bytes,
                                                              std::size_t count) {
  REQUIRE(bytes.size() >= 1 + count);
  std::vector<std::string> fields;
  std::size_t at = 1 + count;
  for (std::size_t i = 0; i < count; ++i) {
    auto len = static_cast<unsigned char>(bytes[1 + i]);
    REQUIRE(at + len <= bytes.size());
    fields.push_back(bytes.substr(at, len));
    at += len;
  }
  return {fields, bytes.substr(at)};
}

// Equal as JavaScript reads them: numbers by value, since a double with an integral value goes out
// as an integer (3.0 as "3", as JavaScript prints it).
bool same_json(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_double() && !b.is_double()) return a == b;  // integers stay exact
    return a.to_number<double>() == b.to_number<double>();
  }
  if (a.kind() != b.kind()) return false;
  if (auto* x = a.if_array()) {
    const auto& y = b.get_array();
    if (x->size() != y.size()) return false;
    for (std::size_t i = 0; i < x->size(); ++i)
      if (!same_json((*x)[i], y[i])) return false;
    return true;
  }
  if (auto* x = a.if_object()) {
    const auto& y = b.get_object();
    if (x->size() != y.size()) return false;
    for (const auto& member : *x) {
      auto* other = y.if_contains(member.key());
      if (!other || !same_json(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

void mutate(rng& r, std::string& s) {
  for (std::size_t n = r.between(1, 3); n > 0 && !s.empty(); --n) {
    std::size_t at = r.between(0, s.size() - 1);
    switch (r.between(0, 2)) {
      case 0:
        s[at] = static_cast<char>(r.byte());
        break;
      case 1:
        s.erase(at, r.between(1, 8));
        break;
      default:
        s.insert(at, 1, "[]{}\",:0n\\"[r.between(0, 9)]);
        break;
    }
  }
}

}  // namespace

TEST_CASE("client messages in V2 arrays, V1 objects and V2 binary decode to the fields sent") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 10);
  for (int round = 0; round < fuzz::rounds(4000); ++round) {
    INFO("round " << round);
    auto join_ref = random_ref(r);
    auto ref = random_ref(r);
    auto topic = r.utf8(20);
    auto event = r.utf8(10);
    auto body = r.json(3);

    auto text = json::serialize(json::array{ref_json(join_ref), ref_json(ref), json::string(topic),
                                            json::string(event), body});
    auto result = v2().decode(text, false);
    REQUIRE(std::holds_alternative<message>(result));
    auto m = std::get<message>(result);
    CHECK(m.join_ref == join_ref);
    CHECK(m.ref == ref);
    CHECK(m.topic == topic);
    CHECK(m.event == event);
    CHECK(std::get<json::value>(m.body) == body);

    json::object v1_text{
        {"topic", topic}, {"event", event}, {"payload", body}, {"ref", ref_json(ref)}};
    if (join_ref) v1_text["join_ref"] = *join_ref;
    auto v1_result = v1().decode(json::serialize(v1_text), false);
    REQUIRE(std::holds_alternative<message>(v1_result));
    auto m1 = std::get<message>(v1_result);
    CHECK(m1.join_ref == join_ref);
    CHECK(m1.ref == ref);
    CHECK(m1.topic == topic);
    CHECK(m1.event == event);
    CHECK(std::get<json::value>(m1.body) == body);

    auto short_topic = short_field(r);
    auto short_event = short_field(r);
    auto bytes = r.bytes(64);
    auto bin =
        v2().decode(binary_client_push(join_ref, ref, short_topic, short_event, bytes), true);
    REQUIRE(std::holds_alternative<message>(bin));
    auto mb = std::get<message>(bin);
    CHECK(mb.join_ref == join_ref);  // none travels as an empty field (docs/protocol.md §3)
    CHECK(mb.ref == ref);
    CHECK(mb.topic == short_topic);
    CHECK(mb.event == short_event);
    CHECK(std::get<binary>(mb.body).bytes == bytes);
  }
}

TEST_CASE("server frames parse back to the refs, topic, event and payload they were given") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 11);
  for (int round = 0; round < fuzz::rounds(4000); ++round) {
    INFO("round " << round);
    auto join_ref = random_ref(r);
    auto ref = random_ref(r);
    auto topic = r.utf8(20);
    auto event = r.utf8(10);
    auto status = r.utf8(5);
    json::value body = r.object(3);
    json::object control_body = r.object(2);

    // Parsed as a JavaScript client would, with correctly rounded doubles.
    auto parsed = [](const frame& f) {
      REQUIRE_FALSE(f.binary);
      CHECK(utf8::valid(*f.bytes));
      boost::system::error_code ec;
      auto value = parse_exact_json(*f.bytes, ec);
      REQUIRE_FALSE(ec);
      return value;
    };
    json::object reply_payload{{"status", status}, {"response", body}};
    CHECK(same_json(parsed(v2().reply(join_ref, ref, topic, status, body)),
                    json::array{ref_json(join_ref), ref_json(ref), json::string(topic), "phx_reply",
                                reply_payload}));
    CHECK(same_json(
        parsed(v2().push(join_ref, topic, event, body)),
        json::array{ref_json(join_ref), nullptr, json::string(topic), json::string(event), body}));
    CHECK(same_json(parsed(v2().broadcast(topic, event, body)),
                    json::array{nullptr, nullptr, json::string(topic), json::string(event), body}));
    CHECK(same_json(parsed(v2().control(join_ref, topic, event, control_body)),
                    json::array{ref_json(join_ref), ref_json(join_ref), json::string(topic),
                                json::string(event), control_body}));
    CHECK(same_json(parsed(v1().reply(join_ref, ref, topic, status, body)),
                    json::object{{"topic", topic},
                                 {"event", "phx_reply"},
                                 {"payload", reply_payload},
                                 {"ref", ref_json(ref)}}));
    CHECK(same_json(
        parsed(v1().broadcast(topic, event, body)),
        json::object{{"topic", topic}, {"event", event}, {"payload", body}, {"ref", nullptr}}));

    // Binary payloads: the §3 layouts, fields of at most 255 bytes.
    auto short_topic = short_field(r);
    auto short_event = short_field(r);
    auto short_status = short_field(r);
    auto short_ref = r.chance(0.5) ? ref_t(short_field(r)) : std::nullopt;
    binary bytes{r.bytes(64)};
    auto reply = v2().reply(short_ref, short_ref, short_topic, short_status, bytes);
    REQUIRE(reply.binary);
    REQUIRE((*reply.bytes)[0] == 1);
    auto [reply_fields, reply_rest] = split_binary(*reply.bytes, 4);
    CHECK(reply_fields == std::vector<std::string>{short_ref.value_or(""), short_ref.value_or(""),
                                                   short_topic, short_status});
    CHECK(reply_rest == bytes.bytes);
    auto push = v2().push(short_ref, short_topic, short_event, bytes);
    REQUIRE((*push.bytes)[0] == 0);
    auto [push_fields, push_rest] = split_binary(*push.bytes, 3);
    CHECK(push_fields ==
          std::vector<std::string>{short_ref.value_or(""), short_topic, short_event});
    CHECK(push_rest == bytes.bytes);
    auto broadcast = v2().broadcast(short_topic, short_event, bytes);
    REQUIRE((*broadcast.bytes)[0] == 2);
    auto [broadcast_fields, broadcast_rest] = split_binary(*broadcast.bytes, 2);
    CHECK(broadcast_fields == std::vector<std::string>{short_topic, short_event});
    CHECK(broadcast_rest == bytes.bytes);
    CHECK_THROWS_AS(v2().broadcast(std::string(256 + r.between(0, 100), 't'), short_event, bytes),
                    std::length_error);

    // Whatever bytes the strings hold, the text frames are UTF-8 JSON (parsed() checks both).
    auto raw_topic = r.bytes(20);
    parsed(
        v2().broadcast(raw_topic, r.bytes(8), json::value(json::object{{r.bytes(6), r.bytes(6)}})));
    parsed(v1().reply(ref_t(r.bytes(4)), ref_t(r.bytes(4)), raw_topic, r.bytes(4), body));
  }
}

TEST_CASE("mutated and random frames decode to a message or a decode error, never an exception") {
  INFO("BERYL_FUZZ_SEED=" << fuzz::seed());
  rng r(fuzz::seed() + 12);
  int refused = 0, decoded = 0;
  for (int round = 0; round < fuzz::rounds(20000); ++round) {
    INFO("round " << round);
    std::string input;
    bool as_binary = r.chance(0.3);
    switch (r.between(0, 2)) {
      case 0:
        input = r.bytes(80);
        break;
      case 1:
        input = as_binary
                    ? binary_client_push(random_ref(r), random_ref(r), short_field(r),
                                         short_field(r), r.bytes(16))
                    : json::serialize(json::array{ref_json(random_ref(r)), ref_json(random_ref(r)),
                                                  r.utf8(8), r.utf8(8), r.json(2)});
        break;
      default:
        input = json::serialize(r.json(3));
        break;
    }
    mutate(r, input);
    for (const serializer* s : {&v1(), &v2()}) {
      decode_result result;
      CHECK_NOTHROW(result = s->decode(input, as_binary));
      (std::holds_alternative<message>(result) ? decoded : refused) += 1;
    }
  }
  CHECK(refused > 0);
  CHECK(decoded > 0);
}
