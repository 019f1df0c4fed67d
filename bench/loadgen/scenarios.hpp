// The benchmark scenarios. Each runs to completion or to its deadline and returns its result.
#pragma once

#include "options.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

namespace bench {

// Each generator process runs its io_context on one thread (the server needs the other core);
// saying so lets Asio skip its internal locking.
constexpr int one_thread = 1;

boost::json::object run_connect(const loadgen_options& options);
// One process of a multi-process connect run, driven over stdin/stdout by run_connect.
boost::json::object run_connect_worker(const loadgen_options& options);
boost::json::object run_fanout(const loadgen_options& options);
boost::json::object run_echo(const loadgen_options& options);
boost::json::object run_churn(const loadgen_options& options);
boost::json::object run_room(const loadgen_options& options);
boost::json::object run_capacity(const loadgen_options& options);
boost::json::object run_heal(const loadgen_options& options);

// Runs `io` until a scenario stops it or `timeout_s` passes; returns true on the timeout.
bool run_until_stopped(boost::asio::io_context& io, double timeout_s);

}  // namespace bench
