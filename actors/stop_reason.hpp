#pragma once
// Why a channel ends, as Phoenix's terminate reasons (docs/protocol.md §4.4), carried between
// actors as CAF exit reasons of the error category "beryl".
#include <caf/actor.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <string>

namespace beryl {

enum class stop_code : std::uint8_t {
  none = 0,
  left,            // {:shutdown, :left}: the client sent phx_leave
  closed,          // {:shutdown, :closed}: the socket closed
  duplicate_join,  // {:shutdown, :duplicate_join}: the topic was joined again
  disconnected,    // {:shutdown, :disconnected}: disconnect by socket id
  shutdown,        // the server is stopping
  stopped,         // the channel called stop()
  crashed,         // an exception in a callback
};

caf::error make_error(stop_code code, std::string detail = {});

const char* to_string(stop_code code);

// What a channel's terminate callback is told.
struct stop_reason {
  stop_code code = stop_code::stopped;
  std::string detail;  // the exception text for crashes, or the CAF rendering of a foreign reason

  static stop_reason from(const caf::error& exit_reason);
  // Phoenix sends phx_close for normal and shutdown stops, phx_error for everything else.
  bool is_error() const;
  const char* name() const { return to_string(code); }
};

// What a channel ending for `reason` exits with: normal for Phoenix's {:shutdown, _} family
// (left, closed, duplicate_join, ...), so supervisors do not count it as a crash; user_shutdown
// for a server shutdown or a restart of the tree above it (the client still gets phx_error and
// rejoins, but supervisors see an orderly stop, as OTP's `shutdown`); a crash's own reason.
caf::error exit_reason_for(const caf::error& reason);

// Tells `dest` to stop with `reason` through an exit message from nobody, the way a transport
// ends its socket actor (CAF's anon_send_exit takes only exit_reason codes).
void send_stop(const caf::actor& dest, caf::error reason);

// Renders our error category for CAF's `system().render(err)`.
std::string render_stop_code(std::uint8_t code, caf::atom_value, const caf::message& context);

inline constexpr caf::atom_value stop_category = caf::atom("beryl");

}  // namespace beryl
