// A Phoenix V2 client connection on top of ws_client: one ref counter per connection, at most
// one joined topic at a time (all the scenarios need), heartbeat replies swallowed.
#pragma once

#include "phoenix_frame.hpp"
#include "ws_client.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

class phx_conn;

class phx_listener {
 public:
  virtual void on_open(phx_conn& conn) = 0;
  // Every frame except heartbeat replies.
  virtual void on_frame(phx_conn& conn, const phx_frame& frame) = 0;
  // The head of a large frame (its payload cut short, see ws_handler::on_text_start): true when
  // that was all the listener needed, and on_frame does not follow.
  virtual bool on_frame_start(phx_conn& conn, const phx_frame& head) {
    (void)conn;
    (void)head;
    return false;
  }
  virtual void on_closed(phx_conn& conn, const std::string& reason) = 0;

 protected:
  ~phx_listener() = default;
};

class phx_conn final : public ws_handler {
 public:
  phx_conn(boost::asio::io_context& io, phx_listener& listener, std::size_t index);

  void connect(const ws_target& target) { ws_.connect(target); }
  // Each returns the ref it used; join's ref is also the join_ref of later pushes.
  std::uint64_t join(std::string_view topic, std::string_view payload);
  std::uint64_t push(std::string_view topic, std::string_view event, std::string_view payload);
  std::uint64_t leave(std::string_view topic);
  void heartbeat();
  void close() { ws_.close(); }

  std::size_t index() const { return index_; }
  bool is_open() const { return open_; }
  std::uint64_t join_ref() const { return join_ref_; }

 private:
  void on_open() override;
  void on_text(std::string_view text) override;
  bool on_text_start(std::string_view start) override;
  void on_closed(const std::string& reason) override;

  ws_client ws_;
  phx_listener& listener_;
  std::size_t index_;
  std::uint64_t last_ref_ = 0;
  std::uint64_t join_ref_ = 0;
  bool open_ = false;
};

}  // namespace bench
