#include "supervision/errors.hpp"

#include "caf/actor_system_config.hpp"
#include "caf/message.hpp"
#include "caf/sec.hpp"

namespace beryl::supervision {

const char* to_string(supervision_errc code) {
  switch (code) {
    case supervision_errc::none:
      return "none";
    case supervision_errc::start_failed:
      return "start_failed";
    case supervision_errc::restart_intensity_exceeded:
      return "restart_intensity_exceeded";
    case supervision_errc::no_such_child:
      return "no_such_child";
    case supervision_errc::not_running:
      return "not_running";
    case supervision_errc::max_children_reached:
      return "max_children_reached";
    case supervision_errc::start_timeout:
      return "start_timeout";
  }
  return "unknown";
}

caf::error make_error(supervision_errc code, std::string context) {
  auto ctx = context.empty() ? caf::message{} : caf::make_message(std::move(context));
  return caf::error{static_cast<std::uint8_t>(code), supervision_category, std::move(ctx)};
}

caf::error injected_crash() {
  return caf::make_error(caf::sec::runtime_error, "injected crash");
}

void add_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(supervision_category,
                         [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
                           std::string result = "supervision_error(";
                           result += to_string(static_cast<supervision_errc>(code));
                           if (ctx.match_elements<std::string>()) {
                             result += ": ";
                             result += ctx.get_as<std::string>(0);
                           }
                           result += ')';
                           return result;
                         });
}

}  // namespace beryl::supervision
