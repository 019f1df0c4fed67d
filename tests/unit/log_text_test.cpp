#include "core/log_text.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using beryl::log_text;

TEST_CASE("log_text: short plain text is unchanged, UTF-8 included") {
  CHECK(log_text("room:lobby") == "room:lobby");
  CHECK(log_text("") == "");
  CHECK(log_text("salle:caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "salle:caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST_CASE(
    "log_text: a newline cannot start a forged line, an ANSI escape cannot reach a terminal") {
  CHECK(log_text("room:x\n[2025-01-01 00:00:00.000] [critical] forged") ==
        "room:x\\n[2025-01-01 00:00:00.000] [critical] forged");
  CHECK(log_text("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
  CHECK(log_text(std::string("a\0b\r\t\x7f", 6)) == "a\\x00b\\r\\t\\x7f");
}

TEST_CASE("log_text: backslashes and quotes are escaped, so escapes cannot be faked") {
  CHECK(log_text("a\\nb") == "a\\\\nb");
  CHECK(log_text("say \"hi\" it's") == "say \\\"hi\\\" it\\'s");
}

TEST_CASE("log_text: invalid UTF-8 bytes and code points acting as controls are escaped") {
  CHECK(log_text("\xff\xfe") == "\\xff\\xfe");
  CHECK(log_text("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
  CHECK(log_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(log_text("\xe2\x82") == "\\xe2\\x82");           // cut short
  CHECK(log_text("\xc2\x9b"
                 "31m") == "\\u009b31m");  // C1 CSI
  CHECK(log_text("a\xe2\x80\xa8"
                 "b") == "a\\u2028b");  // line separator
  CHECK(log_text("\xe2\x80\xae"
                 "txt.exe") == "\\u202etxt.exe");  // right-to-left override
}

TEST_CASE("log_text: long text is cut to the limit with its size, never inside a character") {
  std::string topic = "room:" + std::string(10'000, 'x');
  auto out = log_text(topic);
  CHECK(out.size() <= beryl::log_text_limit);
  CHECK(out.rfind("room:xxxx", 0) == 0);
  CHECK(out.size() > beryl::log_text_limit - 10);  // nearly the whole budget is used
  const std::string mark = "\xe2\x80\xa6(10005 bytes)";
  CHECK(out.substr(out.size() - mark.size()) == mark);

  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xe2\x82\xac";
  auto cut = log_text(euros, 50);
  CHECK(cut.size() <= 50);
  auto body = cut.substr(0, cut.find("\xe2\x80\xa6("));
  CHECK(body.size() % 3 == 0);  // whole euro signs only
  CHECK(cut == body + "\xe2\x80\xa6(300 bytes)");
}

TEST_CASE("log_text: escapes count towards the limit, and are not split either") {
  std::string newlines(500, '\n');
  auto out = log_text(newlines, 60);
  CHECK(out.size() <= 60);
  auto body = out.substr(0, out.find("\xe2\x80\xa6("));
  CHECK(body.size() % 2 == 0);
  for (std::size_t i = 0; i < body.size(); i += 2) CHECK(body.substr(i, 2) == "\\n");
  // Exactly at the limit: not cut.
  CHECK(log_text(std::string(200, 'a')) == std::string(200, 'a'));
  CHECK(log_text(std::string(201, 'a')).size() <= 200);
}

TEST_CASE("log_text: a limit too small for the cut mark is raised to the minimum") {
  auto out = log_text(std::string(1000, 'a'), 1);
  CHECK(out.size() <= beryl::log_text_min_limit);
  CHECK(out.find("(1000 bytes)") != std::string::npos);
}

TEST_CASE("exception_text: what() of a std::exception, and a word for anything else thrown") {
  CHECK(beryl::exception_text(std::make_exception_ptr(std::runtime_error("boom \n"))) == "boom \n");
  CHECK(beryl::exception_text(std::make_exception_ptr(42)) == "unknown exception");
}
