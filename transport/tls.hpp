#pragma once
// Transport-internal: TLS (--tls-cert, --tls-key). A listener with a certificate serves https and
// wss on its own port beside plain http and ws: each connection's first bytes tell which
// (docs/protocol.md §9).
#include "transport/plain_socket.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <string>

namespace beryl {

using tls_stream = boost::asio::ssl::stream<plain_socket>;

// The server side of TLS 1.2 and 1.3 with the PEM certificate chain and key in these files.
// Throws std::runtime_error naming the file and OpenSSL's reason when one cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file,
                                                            const std::string& key_file);

}  // namespace beryl
