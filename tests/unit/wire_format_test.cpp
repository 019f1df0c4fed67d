#include "core/json_serializer.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>

#include <string>

namespace json = boost::json;
using namespace beryl;

namespace {

const serializer& v1() {
  return *wire::serializer_for_vsn(nullptr);
}
const serializer& v2() {
  static const std::string vsn = "2.0.0";
  return *wire::serializer_for_vsn(&vsn);
}

message decoded(const decode_result& r) {
  REQUIRE(std::holds_alternative<message>(r));
  return std::get<message>(r);
}

bool refused(const decode_result& r) {
  return std::holds_alternative<decode_error>(r);
}

json::value text_of(const frame& f) {
  REQUIRE_FALSE(f.binary);
  return json::parse(f.contents());
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 3)
    out += static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16));
  return out;
}

}  // namespace

TEST_CASE("vsn picks the serializer: absent is V1, ~> 1.0.0 and ~> 2.0.0 only") {
  auto pick = [](const char* v) {
    std::string s = v;
    auto* f = wire::serializer_for_vsn(&s);
    return f ? std::string(f->name()) : std::string("refused");
  };
  CHECK(wire::serializer_for_vsn(nullptr)->name() == "V1");
  CHECK(pick("1.0.0") == "V1");
  CHECK(pick("2.0.0") == "V2");
  CHECK(pick("2.0.5") == "V2");
  CHECK(pick("2.0.0-rc.1") == "V2");
  CHECK(pick("2.1.0") == "refused");
  CHECK(pick("3.0.0") == "refused");
  CHECK(pick("2") == "refused");
  CHECK(pick("banana") == "refused");
  CHECK(pick("") == "refused");
}

TEST_CASE("V2 decodes arrays of five, refs as opaque strings") {
  auto m = decoded(v2().decode(R"(["1","2","room:lobby","phx_join",{"user":"ann"}])", false));
  CHECK(m.join_ref == std::string("1"));
  CHECK(m.ref == std::string("2"));
  CHECK(m.topic == "room:lobby");
  CHECK(m.event == "phx_join");
  CHECK(std::get<json::value>(m.body) == json::parse(R"({"user":"ann"})"));

  auto heartbeat = decoded(v2().decode(R"([null,"7","phoenix","heartbeat",{}])", false));
  CHECK_FALSE(heartbeat.join_ref);
  CHECK(heartbeat.ref == std::string("7"));

  auto numeric = decoded(v2().decode(R"([1,2,"t","e",[1,2]])", false));
  CHECK(numeric.join_ref == std::string("1"));
  CHECK(std::get<json::value>(numeric.body).is_array());  // client payloads may be any JSON

  auto extra = decoded(v2().decode(R"([null,"1","t","e",{},"extra"])", false));
  CHECK(extra.topic == "t");
}

TEST_CASE("V2 refuses what is not a Phoenix message") {
  CHECK(refused(v2().decode("garbage", false)));
  CHECK(refused(v2().decode(R"({"topic":"t","event":"e","payload":{},"ref":null})", false)));
  CHECK(refused(v2().decode(R"([null,"1","t","e"])", false)));
  CHECK(refused(v2().decode(R"([null,"1",5,"e",{}])", false)));
  CHECK(refused(v2().decode(R"([null,"1","t",null,{}])", false)));
  CHECK(refused(v2().decode(R"([{},"1","t","e",{}])", false)));
  CHECK(refused(v2().decode("[null,\"1\",\"t\",\"\xff\",{}]", false)));  // invalid UTF-8
}

TEST_CASE("V2 encodes replies, pushes, broadcasts and control messages with the right refs") {
  CHECK(text_of(v2().reply(std::string("1"), std::string("2"), "room:1", "ok",
                           json::value(json::object{{"a", 1}}))) ==
        json::parse(R"(["1","2","room:1","phx_reply",{"status":"ok","response":{"a":1}}])"));
  CHECK(text_of(v2().reply(std::nullopt, std::string("3"), "phoenix", "ok",
                           json::value(json::object{}))) ==
        json::parse(R"([null,"3","phoenix","phx_reply",{"status":"ok","response":{}}])"));
  CHECK(text_of(
            v2().push(std::string("1"), "room:1", "presence_state", json::value(json::object{}))) ==
        json::parse(R"(["1",null,"room:1","presence_state",{}])"));
  CHECK(text_of(v2().broadcast("room:1", "shout", json::value(json::object{{"b", "x"}}))) ==
        json::parse(R"([null,null,"room:1","shout",{"b":"x"}])"));
  CHECK(text_of(v2().control(std::string("4"), "room:1", "phx_close", {})) ==
        json::parse(R"(["4","4","room:1","phx_close",{}])"));
}

TEST_CASE("encoding keeps keys verbatim and escapes strings") {
  json::object tricky{{"__proto__", "x"}, {"quote\"and\\slash", "line\nbreak\x01"}};
  auto f = v2().broadcast("t\"opic", "e", json::value(tricky));
  CHECK(text_of(f) == json::array{nullptr, nullptr, "t\"opic", "e", tricky});
}

TEST_CASE("a number beyond a double's range makes a message undecodable (1007)") {
  CHECK(refused(v2().decode(R"([null,"1","room:1","ping",{"x":1e400}])", false)));
  CHECK(
      refused(v1().decode(R"({"topic":"t","event":"e","payload":{"x":-1e400},"ref":"1"})", false)));
  CHECK(std::get<json::value>(
            decoded(v2().decode(R"([null,"1","t","e",{"x":1e-400}])", false)).body) ==
        json::object{{"x", 0.0}});
}

TEST_CASE("doubles leave as JavaScript prints them: 2.5, not Boost.JSON's 2.5E0") {
  json::object body{{"a", 2.5}, {"b", 0.1}, {"c", 1e21}, {"d", 5e-324}, {"e", 3.0}};
  CHECK(*v2().broadcast("t", "e", json::value(body)).bytes ==
        R"([null,null,"t","e",{"a":2.5,"b":0.1,"c":1e+21,"d":5e-324,"e":3}])");
  CHECK(
      *v1().reply(std::nullopt, std::string("1"), "t", "ok", json::value(body)).bytes ==
      R"({"topic":"t","event":"phx_reply","payload":{"status":"ok","response":{"a":2.5,"b":0.1,"c":1e+21,"d":5e-324,"e":3}},"ref":"1"})");
}

TEST_CASE("a push of JSON text shares the text: one presence_state for every joiner") {
  auto state = std::make_shared<const std::string>(R"({"u1":{"metas":[{"phx_ref":"a"}]}})");
  auto v2_frame = v2().push_text(std::string("7"), "room:1", "presence_state", state);
  auto v1_frame = v1().push_text(std::string("7"), "room:1", "presence_state", state);
  for (const auto* f : {&v2_frame, &v1_frame}) {
    CHECK(f->shared_body.get() == state.get());
    CHECK(f->size() == f->contents().size());
  }
  CHECK(v2_frame.contents() ==
        R"(["7",null,"room:1","presence_state",{"u1":{"metas":[{"phx_ref":"a"}]}}])");
  CHECK(
      v1_frame.contents() ==
      R"({"topic":"room:1","event":"presence_state","payload":{"u1":{"metas":[{"phx_ref":"a"}]}},"ref":null})");
}

TEST_CASE("text frames are UTF-8 even when a string is not") {
  auto f = v2().broadcast("room:\xff", "e\xc3", json::value(json::object{{"k\x80", "v"}}));
  CHECK(*f.bytes ==
        "[null,null,\"room:\xEF\xBF\xBD\",\"e\xEF\xBF\xBD\",{\"k\xEF\xBF\xBD\":\"v\"}]");
}

TEST_CASE("server payloads must be objects") {
  CHECK_THROWS_AS(v2().push(std::nullopt, "t", "e", json::value(42)), std::invalid_argument);
  CHECK_THROWS_AS(v1().broadcast("t", "e", json::value(json::array{})), std::invalid_argument);
}

TEST_CASE("V2 binary frames match the protocol's worked examples") {
  // docs/protocol.md §3: topic room:1, event ping, join_ref "1", ref "2"
  auto push =
      decoded(v2().decode(unhex("00 01 01 06 04 31 32 72 6f 6f 6d 3a 31 70 69 6e 67 de ad"), true));
  CHECK(push.join_ref == std::string("1"));
  CHECK(push.ref == std::string("2"));
  CHECK(push.topic == "room:1");
  CHECK(push.event == "ping");
  CHECK(std::get<binary>(push.body).bytes == unhex("de ad"));

  auto reply =
      v2().reply(std::string("1"), std::string("2"), "room:1", "ok", binary{unhex("be ef")});
  CHECK(reply.binary);
  CHECK(hex(*reply.bytes) == "01 01 01 06 02 31 32 72 6f 6f 6d 3a 31 6f 6b be ef");

  auto server_push = v2().push(std::string("1"), "room:1", "ping", binary{unhex("ca fe")});
  CHECK(hex(*server_push.bytes) == "00 01 06 04 31 72 6f 6f 6d 3a 31 70 69 6e 67 ca fe");

  auto broadcast = v2().broadcast("room:1", "ping", binary{unhex("ca fe")});
  CHECK(hex(*broadcast.bytes) == "02 06 04 72 6f 6f 6d 3a 31 70 69 6e 67 ca fe");
}

TEST_CASE("the server's binary push, reply and broadcast read back as a client reads them") {
  auto push = wire::decode_server_binary(
      *v2().push(std::string("1"), "room:1", "ping", binary{unhex("ca fe")}).bytes);
  REQUIRE(push);
  CHECK(push->m.join_ref == std::string("1"));
  CHECK_FALSE(push->m.ref);
  CHECK(push->m.topic == "room:1");
  CHECK(push->m.event == "ping");
  CHECK(std::get<binary>(push->m.body).bytes == unhex("ca fe"));

  auto reply = wire::decode_server_binary(
      *v2().reply(std::string("1"), std::string("2"), "room:1", "ok", binary{unhex("be ef")})
           .bytes);
  REQUIRE(reply);
  CHECK(reply->m.ref == std::string("2"));
  CHECK(reply->m.event == "phx_reply");
  CHECK(reply->reply_status == "ok");
  CHECK(std::get<binary>(reply->m.body).bytes == unhex("be ef"));

  auto broadcast =
      wire::decode_server_binary(*v2().broadcast("room:1", "ping", binary{unhex("00")}).bytes);
  REQUIRE(broadcast);
  CHECK_FALSE(broadcast->m.join_ref);
  CHECK(broadcast->m.topic == "room:1");
  CHECK(broadcast->m.event == "ping");

  CHECK_FALSE(wire::decode_server_binary(""));
  CHECK_FALSE(wire::decode_server_binary(unhex("03 00 00")));        // no such kind
  CHECK_FALSE(wire::decode_server_binary(unhex("02 06 04 72 6f")));  // shorter than its header
  CHECK(wire::binary_reply_address(
            *v2().reply(std::nullopt, std::string("7"), "t", "ok", binary{"x"}).bytes)
            ->ref == std::string("7"));
  CHECK_FALSE(wire::binary_reply_address(unhex("02 01 01 74 65")));  // a broadcast
}

TEST_CASE("V2 binary decoding refuses bad kinds and short frames; encoding refuses long fields") {
  CHECK(refused(v2().decode(unhex("01 01 01 06 04 31 32 72 6f 6f 6d 3a 31 70 69 6e 67"), true)));
  CHECK(refused(v2().decode(unhex("00 01 01 06"), true)));
  CHECK(refused(v2().decode(unhex("00 01 01 06 04 31 32 72 6f"), true)));
  auto empty_refs = decoded(v2().decode(unhex("00 00 00 01 01 74 65"), true));
  CHECK_FALSE(empty_refs.join_ref);
  CHECK(std::get<binary>(empty_refs.body).bytes.empty());
  // Topic, event and refs are text, written back into JSON replies: they must be UTF-8.
  CHECK(refused(v2().decode(unhex("00 00 00 06 04 72 6f 6f 6d 3a ff 70 69 6e 67"), true)));
  CHECK(refused(v2().decode(unhex("00 00 00 01 02 74 c3 28"), true)));
  CHECK(refused(v2().decode(unhex("00 01 00 01 01 80 74 65"), true)));
  CHECK(refused(v2().decode(unhex("00 00 01 01 01 c0 74 65"), true)));
  CHECK_FALSE(
      refused(v2().decode(unhex("00 00 00 02 01 c3 a9 65 ff"), true)));  // payload: any bytes
  CHECK_THROWS_AS(v2().broadcast(std::string(256, 't'), "e", binary{"x"}), std::length_error);
  CHECK_NOTHROW(v2().broadcast(std::string(255, 't'), "e", binary{"x"}));
}

TEST_CASE("V1 uses objects, never sends join_ref, and cannot carry binary") {
  auto m = decoded(
      v1().decode(R"({"topic":"room:1","event":"phx_join","payload":{},"ref":"1"})", false));
  CHECK(m.ref == std::string("1"));
  CHECK_FALSE(m.join_ref);
  auto with_join_ref = decoded(
      v1().decode(R"({"topic":"t","event":"e","payload":1,"ref":null,"join_ref":"9"})", false));
  CHECK(with_join_ref.join_ref == std::string("9"));
  CHECK_FALSE(with_join_ref.ref);

  CHECK(refused(v1().decode(R"({"topic":"t","event":"e","payload":{}})", false)));
  CHECK(refused(v1().decode(R"(["1","2","t","e",{}])", false)));
  CHECK(refused(v1().decode("x", true)));

  CHECK(
      text_of(
          v1().reply(std::string("1"), std::string("2"), "t", "ok", json::value(json::object{}))) ==
      json::parse(
          R"({"topic":"t","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"2"})"));
  CHECK(text_of(v1().push(std::string("1"), "t", "e", json::value(json::object{}))) ==
        json::parse(R"({"topic":"t","event":"e","payload":{},"ref":null})"));
  CHECK(text_of(v1().control(std::string("1"), "t", "phx_close", {})) ==
        json::parse(R"({"topic":"t","event":"phx_close","payload":{},"ref":null})"));
  CHECK_FALSE(v1().supports_binary());
  CHECK_THROWS(v1().broadcast("t", "e", binary{"x"}));
}
