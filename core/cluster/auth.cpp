#include "core/cluster/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace beryl::cluster {
namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0xf]);
  }
  return out;
}

// Length-prefixed fields, so that ("ab", "c") and ("a", "bc") sign differently.
void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string new_nonce() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("the system's random generator failed");
  return hex(bytes.data(), bytes.size());
}

std::string proof(std::string_view secret, role side, std::string_view node,
                  std::string_view own_nonce, std::string_view peer_nonce) {
  std::string signed_text = "beryl-cluster-1;";
  append_field(signed_text, side == role::dialer ? "dialer" : "listener");
  append_field(signed_text, node);
  append_field(signed_text, own_nonce);
  append_field(signed_text, peer_nonce);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(),
            mac.data(), &size))
    throw std::runtime_error("HMAC-SHA256 failed");
  return hex(mac.data(), size);
}

bool proofs_match(std::string_view expected, std::string_view given) {
  // The length of a proof is public (64 hex digits): only the content must not leak.
  return expected.size() == given.size() &&
         CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace beryl::cluster
