#include "transport/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace beryl {
namespace {

std::string openssl_reason(const boost::system::error_code& ec) {
  auto reason = ec.message();
  ERR_clear_error();
  return reason;
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file,
                                                            const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 at least, and no renegotiation: a connection's reads never have to write (its writes
  // happen on the network thread only, see ws_connection).
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION);
  // An idle connection gives its read and write buffers back to OpenSSL's allocator.
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) throw std::runtime_error("--tls-cert " + cert_file + ": " + openssl_reason(ec));
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    throw std::runtime_error("--tls-key " + key_file + " is not the key of --tls-cert " +
                             cert_file);
  }
  if (ec) throw std::runtime_error("--tls-key " + key_file + ": " + openssl_reason(ec));
  return context;
}

}  // namespace beryl
