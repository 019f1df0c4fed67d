#pragma once
// What join and handle_in answer with: Phoenix's {:reply, {status, payload}, socket}.
#include "core/payload.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace beryl {

struct reply {
  std::string status;
  payload response;

  static reply ok(boost::json::object response = {}) {
    return {"ok", boost::json::value(std::move(response))};
  }
  static reply ok(payload response) { return {"ok", std::move(response)}; }
  static reply error(boost::json::object response = {}) {
    return {"error", boost::json::value(std::move(response))};
  }
  static reply error(payload response) { return {"error", std::move(response)}; }

  // From a channel's join(): the answer comes later, through complete_join().
  static reply later() { return {}; }

  bool is_ok() const { return status == "ok"; }
  bool is_later() const { return status.empty(); }
};

// handle_in's "no reply" ({:noreply, socket}).
inline constexpr std::nullopt_t noreply = std::nullopt;

}  // namespace beryl
