#include "app/runtime/log_format.hpp"
#include "actors/context.hpp"
#include "app/runtime/config.hpp"
#include "core/log_metadata.hpp"

#include <doctest/doctest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>

#include <chrono>
#include <map>
#include <sstream>
#include <string>

using beryl::log_metadata_scope;
using beryl::app::json_log_formatter;

namespace {

// 2025-01-31T12:34:56.789Z
const auto fixed_time = spdlog::log_clock::time_point(std::chrono::milliseconds(1738326896789));

std::string format_json(std::string_view message,
                        spdlog::level::level_enum level = spdlog::level::warn) {
  json_log_formatter formatter;
  spdlog::details::log_msg msg(fixed_time, spdlog::source_loc{}, "", level,
                               spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  formatter.format(msg, out);
  return fmt::to_string(out);
}

// The line without its newline, as a JSON object; fails the test if it is not exactly one line.
boost::json::object parse_line(const std::string& line) {
  REQUIRE(!line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  for (unsigned char c : line.substr(0, line.size() - 1)) CHECK(c >= 0x20);
  return boost::json::parse(line.substr(0, line.size() - 1)).as_object();
}

// The default logger writing to `out` with `format`'s formatter, for the test's lifetime.
class captured_log {
 public:
  explicit captured_log(beryl::app::log_format format) : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    spdlog::set_default_logger(logger);
    beryl::app::use_log_format(format);
    spdlog::set_level(spdlog::level::info);
  }
  ~captured_log() { spdlog::set_default_logger(previous_); }

  std::ostringstream out;

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace

TEST_CASE("json log format: time in UTC with milliseconds, level and message; nothing unknown") {
  CHECK(format_json("listening on http://127.0.0.1:4000/") ==
        "{\"time\":\"2025-01-31T12:34:56.789Z\",\"level\":\"warn\","
        "\"message\":\"listening on http://127.0.0.1:4000/\"}\n");
}

TEST_CASE("json log format: every level by its name") {
  std::map<spdlog::level::level_enum, std::string> names = {
      {spdlog::level::trace, "trace"}, {spdlog::level::debug, "debug"},
      {spdlog::level::info, "info"},   {spdlog::level::warn, "warn"},
      {spdlog::level::err, "error"},   {spdlog::level::critical, "critical"}};
  for (const auto& [level, name] : names)
    CHECK(parse_line(format_json("x", level)).at("level").as_string() == name);
}

TEST_CASE("json log format: every metadata field, in order, from the thread's log metadata") {
  log_metadata_scope about({"users_socket:42", "room:lobby", "127.0.0.1:5000", "room:lobby#2"});
  CHECK(format_json("m", spdlog::level::info) ==
        "{\"time\":\"2025-01-31T12:34:56.789Z\",\"level\":\"info\",\"message\":\"m\","
        "\"socket_id\":\"users_socket:42\",\"topic\":\"room:lobby\","
        "\"remote_address\":\"127.0.0.1:5000\",\"child\":\"room:lobby#2\"}\n");
  {
    log_metadata_scope child(beryl::log_child("pubsub"));
    auto line = parse_line(format_json("m"));
    CHECK(line.at("child").as_string() == "pubsub");
    CHECK(line.at("topic").as_string() == "room:lobby");
  }
}

TEST_CASE("json log format: only the known metadata fields appear") {
  log_metadata_scope about(beryl::log_child("listener"));
  auto line = parse_line(format_json("m"));
  CHECK(line.size() == 4);
  CHECK(line.at("child").as_string() == "listener");
  CHECK_FALSE(line.contains("topic"));
  CHECK_FALSE(line.contains("socket_id"));
  CHECK_FALSE(line.contains("remote_address"));
}

TEST_CASE("json log format: quotes, backslashes and controls are escaped; the line stays one") {
  std::string message = "say \"hi\" \\ \n[critical] forged\r\t\x1b[31m\x7f";
  message += std::string("\0end", 4);
  auto line = format_json(message);
  CHECK(line.find("\"message\":\"say \\\"hi\\\" \\\\ \\n[critical] forged\\r\\t\\u001b[31m\\u007f"
                  "\\u0000end\"") != std::string::npos);
  CHECK(parse_line(line).at("message").as_string() == message);
}

TEST_CASE("json log format: valid UTF-8 passes, controls beyond ASCII and invalid bytes do not") {
  // é € 😀 unchanged; C1 CSI, the line separator and a right-to-left override as \u escapes.
  auto line =
      format_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x9b \xe2\x80\xa8 \xe2\x80\xae");
  CHECK(line.find("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\u009b \\u2028 \\u202e\"") !=
        std::string::npos);
  // A stray byte, a truncated sequence and an overlong form: each byte a replacement character.
  auto invalid = format_json(
      "a\xff"
      "b\xe2\x82"
      "c\xc0\xaf");
  CHECK(invalid.find("a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\"") != std::string::npos);
  auto parsed = parse_line(invalid);
  CHECK(parsed.at("message").as_string() ==
        "a\xef\xbf\xbd"
        "b\xef\xbf\xbd\xef\xbf\xbd"
        "c\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("json log format: client text in metadata is escaped too, and cut when long") {
  std::string topic = "room:\"x\"\n{\"level\":\"critical\"}\x1b";
  log_metadata_scope about(beryl::log_topic(topic));
  CHECK(parse_line(format_json("m")).at("topic").as_string() == topic);

  // 199 bytes, then a 2-byte character that would cross 200: cut before it.
  std::string long_topic = std::string(199, 'x') + "\xc3\xa9" + std::string(1000, 'y');
  log_metadata_scope long_about(beryl::log_topic(long_topic));
  auto cut = std::string(parse_line(format_json("m")).at("topic").as_string());
  CHECK(cut == std::string(199, 'x') + "\xe2\x80\xa6(1201 bytes)");
}

TEST_CASE("json log format: a connection's limited log carries its socket id, address and topic") {
  captured_log log(beryl::app::log_format::json);
  auto info = std::make_shared<beryl::socket_info>();
  info->id = "users_socket:7";
  info->peer = "127.0.0.1:40000";
  info->log.warn(beryl::log_topic("room:\"q\""), "join of unmatched topic {}", "room:\\\"q\\\"");
  info->log.info("over its rate limit");
  beryl::limited_log anonymous;
  anonymous.warn("a shard's line");

  std::istringstream lines(log.out.str());
  std::string line;
  std::vector<boost::json::object> parsed;
  while (std::getline(lines, line)) parsed.push_back(parse_line(line + "\n"));
  REQUIRE(parsed.size() == 3);
  CHECK(parsed[0].at("level").as_string() == "warn");
  CHECK(parsed[0].at("message").as_string() == "join of unmatched topic room:\\\"q\\\"");
  CHECK(parsed[0].at("socket_id").as_string() == "users_socket:7");
  CHECK(parsed[0].at("remote_address").as_string() == "127.0.0.1:40000");
  CHECK(parsed[0].at("topic").as_string() == "room:\"q\"");
  CHECK(parsed[1].at("socket_id").as_string() == "users_socket:7");
  CHECK_FALSE(parsed[1].contains("topic"));
  CHECK(parsed[2].size() == 3);  // time, level, message
  CHECK(beryl::current_log_metadata().empty());
}

TEST_CASE("text log format: the lines are as before, with no metadata") {
  captured_log log(beryl::app::log_format::text);
  auto info = std::make_shared<beryl::socket_info>();
  info->peer = "127.0.0.1:40000";
  info->log.warn(beryl::log_topic("room:x"), "join of unmatched topic {} from {}", "room:x",
                 info->peer);
  auto text = log.out.str();
  CHECK(text.size() > 26);
  CHECK(text.substr(0, 1) == "[");
  CHECK(text.substr(26) == "[warning] join of unmatched topic room:x from 127.0.0.1:40000\n");
}

TEST_CASE("log format option: text by default, json by --log-format or BERYL_LOG_FORMAT") {
  auto env = [](const char* value) {
    return [value](const char* name) -> const char* {
      return std::string(name) == "BERYL_LOG_FORMAT" ? value : nullptr;
    };
  };
  using beryl::app::log_format;
  using beryl::app::parse_config;
  CHECK(parse_config({}, env(nullptr)).config->log_format == log_format::text);
  CHECK(parse_config({"--log-format", "json"}, env(nullptr)).config->log_format ==
        log_format::json);
  CHECK(parse_config({"--log-format=json"}, env(nullptr)).config->log_format == log_format::json);
  CHECK(parse_config({}, env("json")).config->log_format == log_format::json);
  CHECK(parse_config({"--log-format", "text"}, env("json")).config->log_format == log_format::text);
  auto bad = parse_config({"--log-format", "xml"}, env(nullptr));
  CHECK_FALSE(bad.config);
  CHECK(bad.exit_code == 2);
  CHECK(bad.text == "--log-format is text or json\n");
}
