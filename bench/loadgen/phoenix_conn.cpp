#include "phoenix_conn.hpp"

#include <spdlog/spdlog.h>

namespace bench {

phx_conn::phx_conn(boost::asio::io_context& io, phx_listener& listener, std::size_t index)
    : ws_(io, *this), listener_(listener), index_(index) {}

std::uint64_t phx_conn::join(std::string_view topic, std::string_view payload) {
  join_ref_ = ++last_ref_;
  ws_.send(encode_frame(join_ref_, join_ref_, topic, "phx_join", payload));
  return join_ref_;
}

std::uint64_t phx_conn::push(std::string_view topic, std::string_view event,
                             std::string_view payload) {
  ws_.send(encode_frame(join_ref_, ++last_ref_, topic, event, payload));
  return last_ref_;
}

std::uint64_t phx_conn::leave(std::string_view topic) {
  return push(topic, "phx_leave", "{}");
}

void phx_conn::heartbeat() {
  if (open_) ws_.send(encode_frame(0, ++last_ref_, "phoenix", "heartbeat", "{}"));
}

void phx_conn::on_open() {
  open_ = true;
  listener_.on_open(*this);
}

void phx_conn::on_text(std::string_view text) {
  phx_frame frame;
  if (!scan_frame(text, frame)) {
    spdlog::warn("connection {}: not a V2 frame: {:.200}", index_, text);
    return;
  }
  if (frame.topic == "phoenix") return;  // heartbeat reply
  listener_.on_frame(*this, frame);
}

bool phx_conn::on_text_start(std::string_view start) {
  phx_frame head;
  if (!scan_frame_head(start, head) || head.topic == "phoenix") return false;
  return listener_.on_frame_start(*this, head);
}

void phx_conn::on_closed(const std::string& reason) {
  open_ = false;
  listener_.on_closed(*this, reason);
}

}  // namespace bench
