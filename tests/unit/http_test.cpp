#include "core/http.hpp"

#include <doctest/doctest.h>

#include <string>

using beryl::unambiguous_body_length;

TEST_CASE("a body length is unambiguous with no Transfer-Encoding or with chunked alone") {
  const std::string chunked = "chunked", upper = " Chunked ";
  CHECK(unambiguous_body_length(nullptr, false, true));
  CHECK(unambiguous_body_length(nullptr, true, true));
  CHECK(unambiguous_body_length(nullptr, true, false));
  CHECK(unambiguous_body_length(&chunked, false, true));
  CHECK(unambiguous_body_length(&upper, false, true));
}

TEST_CASE("other codings, chunked beside Content-Length, or codings in HTTP/1.0 are refused") {
  // RFC 9112 §6.1 and §6.3: each of these can smuggle a request inside another's body.
  for (std::string coding : {"xchunked", "chunked, chunked", "gzip, chunked", "chunked, gzip",
                             "identity", "", "chunked\x0b"}) {
    INFO(coding);
    CHECK_FALSE(unambiguous_body_length(&coding, false, true));
  }
  const std::string chunked = "chunked";
  CHECK_FALSE(unambiguous_body_length(&chunked, true, true));
  CHECK_FALSE(unambiguous_body_length(&chunked, false, false));
}
