#include "actors/stop_reason.hpp"

#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>
#include <caf/system_messages.hpp>

namespace beryl {

caf::error make_error(stop_code code, std::string detail) {
  return {static_cast<std::uint8_t>(code), stop_category,
          detail.empty() ? caf::message{} : caf::make_message(std::move(detail))};
}

const char* to_string(stop_code code) {
  switch (code) {
    case stop_code::none:
      return "normal";
    case stop_code::left:
      return "left";
    case stop_code::closed:
      return "closed";
    case stop_code::duplicate_join:
      return "duplicate_join";
    case stop_code::disconnected:
      return "disconnected";
    case stop_code::shutdown:
      return "shutdown";
    case stop_code::stopped:
      return "stopped";
    case stop_code::crashed:
      return "crashed";
  }
  return "unknown";
}

stop_reason stop_reason::from(const caf::error& e) {
  if (!e || e == caf::exit_reason::normal) return {stop_code::stopped, {}};
  if (e.category() == stop_category) {
    stop_reason r{static_cast<stop_code>(e.code()), {}};
    if (e.context().match_elements<std::string>()) r.detail = e.context().get_as<std::string>(0);
    return r;
  }
  // user_shutdown comes from a supervisor stopping the tree.
  if (e == caf::exit_reason::user_shutdown) return {stop_code::shutdown, {}};
  return {stop_code::crashed, caf::to_string(e)};
}

bool stop_reason::is_error() const {
  // After a crash or a server-side shutdown the client should come back: phx_error makes it rejoin.
  return code == stop_code::crashed || code == stop_code::shutdown;
}

caf::error exit_reason_for(const caf::error& reason) {
  const auto why = stop_reason::from(reason);
  if (why.code == stop_code::shutdown) return caf::exit_reason::user_shutdown;
  return why.is_error() ? reason : caf::error{};
}

void send_stop(const caf::actor& dest, caf::error reason) {
  if (dest)
    dest->enqueue(nullptr, caf::make_message_id(),
                  caf::make_message(caf::exit_msg{caf::actor_addr{}, std::move(reason)}), nullptr);
}

std::string render_stop_code(std::uint8_t code, caf::atom_value, const caf::message& context) {
  std::string out = to_string(static_cast<stop_code>(code));
  if (context.match_elements<std::string>()) {
    out += ": ";
    out += context.get_as<std::string>(0);
  }
  return out;
}

}  // namespace beryl
