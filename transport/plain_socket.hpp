#pragma once
// Transport-internal: the TCP socket of every connection. It is bound to the io_context of the
// one network thread that serves the connection, whose executor is a pointer: with Asio's
// polymorphic any_io_executor the socket is 48 bytes larger, and so is each pending operation's
// copy of the executor (docs/architecture.md §3.3).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace beryl {

using io_executor = boost::asio::io_context::executor_type;
using plain_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, io_executor>;

}  // namespace beryl
