#pragma once
// Transport-internal: one WebSocket connection after its upgrade. It is the connection's outbox
// and feeds its socket actor with decoded messages.
//
// Reading waits with a 64-byte read and takes the rest from a per-thread buffer, so an idle
// connection holds 64 bytes rather than a read buffer, and the waiting read's operation is built
// in the connection itself (transport/op_slot.hpp). Writing queues frames from any thread and
// sends everything queued in one write, so a burst of broadcasts costs one syscall per connection,
// not one per frame. That write is the network thread's, except for replies written at once by
// their sender when nothing is queued (send_now), and queues whose first frame was a large
// broadcast, left to the broadcaster's outbox writers (send_deferred; docs/architecture.md §3.2).
//
// Over TLS only the network thread writes (the TLS state is its own), and each burst is copied
// into one buffer to encrypt.
//
// What a client can make the server hold is bounded in bytes: everything queued for it
// (--outbound-buffer-limit; only the latest pong waits), and what it sent that the actors have not
// handled yet (--inbound-buffer-limit; over it the socket is not read, so TCP pushes back).
#include "actors/socket_protocol.hpp"
#include "core/outbox.hpp"
#include "core/serializer.hpp"
#include "core/ws_frame.hpp"
#include "transport/admission_gate.hpp"
#include "transport/op_slot.hpp"
#include "transport/settings.hpp"
#include "transport/tls.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace beryl {

class ws_connection final : public outbox,
                            public std::enable_shared_from_this<ws_connection>,
                            private ws::decoder::handler {
 public:
  using clock = std::chrono::steady_clock;
  // What keeps the connections (the listener): told when one has finished, or is destroyed. Its
  // list of them runs through the connections, so the list has no node of its own per connection.
  class registry {
   public:
    virtual void remove(ws_connection* c) = 0;

    struct links {
      ws_connection* prev = nullptr;
      ws_connection* next = nullptr;
    };

   protected:
    ~registry() = default;
    static links& links_of(ws_connection& c) { return c.registry_links_; }
  };
  // A plain TCP socket, or TLS over one (held apart: it is larger than the rest of the
  // connection).
  using byte_stream = std::variant<plain_socket, std::unique_ptr<tls_stream>>;

  // `admitted` holds the connection's place under the connection caps until it ends.
  ws_connection(byte_stream stream, const transport_settings& settings, const serializer* format,
                std::shared_ptr<registry> registry, admission_gate::ticket admitted);
  ~ws_connection() override;

  // Writes the upgrade response, then starts reading; `early_bytes` arrived with the request.
  void start(socket_actor socket, std::string handshake_response, std::string early_bytes);

  // outbox, callable from any thread
  void send(frame f) override;
  void send_now(frame f) override;
  bool send_deferred(frame f) override;
  void write_queued() override;
  void close(std::uint16_t code, std::string reason) override;

  // Called periodically from any thread: idle and close-handshake timeouts.
  void check_timeouts(clock::time_point now);

  // Stops the socket actor with `reason` and closes with `code` (listener shutdown).
  void shut_down(const caf::error& reason, std::uint16_t code);
  // Our close frame is queued (after shut_down, close, or a client's close).
  bool closing() const;

  // The actors dropped a message of `bytes` (transport/inbound_lease.hpp); any thread.
  void release_inbound(std::size_t bytes);

 private:
  struct outgoing {
    frame content;
    ws::opcode op;
    bool whole = false;  // already a complete frame (close) or raw HTTP (the upgrade response)

    static outgoing of(frame f);
    std::size_t size() const { return content.size(); }
  };
  // ws::decoder::handler
  void on_message(std::string_view data, bool binary) override;
  void on_ping(std::string_view data) override;
  void on_close(std::uint16_t code, std::string_view reason) override;

  // Room for a TCP read's operation with read_handler (Asio 1.81: 128 bytes; tested in
  // tests/unit/op_slot_test.cpp). A TLS read's is larger and gets Asio's per-thread cache.
  using read_op_slot = op_slot<128>;
  // The waiting read's handler: Asio builds its operation in read_slot_.
  struct read_handler {
    using allocator_type = read_op_slot::allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(self->read_slot_); }
    void operator()(const boost::system::error_code& ec, std::size_t n) const {
      self->on_readable(ec, n);
    }
    std::shared_ptr<ws_connection> self;
  };

  void wait_readable();
  void on_readable(const boost::system::error_code& ec, std::size_t first);
  void feed(char* data, std::size_t size);
  bool over_inbound_budget() const;
  void read_more_or_pause();
  void resume_reading();
  // Who writes a frame: the network thread; the calling thread at once when nothing is queued
  // (send_now); or the caller later, when the queue was idle (send_deferred).
  enum class writer { network, caller_now, caller_later };
  // The upgrade response and close frames are always queued; other frames only within the
  // outbound budget. True when the caller is to call write_queued().
  bool enqueue(outgoing item, writer by = writer::network);
  // The client's address when an outbound overflow is to be told to telemetry (counted and
  // logged already).
  std::optional<std::string> enqueue_within_budget(outgoing& item, writer by, bool& deferred);
  // Outside the mutex: a telemetry handler may take its time.
  void report_slow_consumer(const std::string& address);
  bool fits_locked(const outgoing& item) const;
  bool replace_pending_pong_locked(outgoing& pong);
  enum class write_outcome { all, partial, failed };
  write_outcome write_now_locked(outgoing& item);
  // Writes pending_ from the front, up to a close frame, without waiting; what is written leaves
  // the queue.
  write_outcome write_pending_locked();
  void flush();
  void on_written(const boost::system::error_code& ec);
  void finish();
  void stop_actor(const caf::error& reason);

  // Calls `f` with the plain socket or the TLS stream.
  template <class F>
  decltype(auto) with_stream(F&& f);
  plain_socket& tcp_socket();
  bool tls() const { return stream_.index() == 1; }

  byte_stream stream_;
  const transport_settings& settings_;
  const serializer* format_;
  std::shared_ptr<registry> registry_;
  registry::links registry_links_;  // guarded by the registry
  ws::decoder decoder_;
  socket_actor actor_;                // touched only on the connection's executor
  std::array<char, 64> first_bytes_;  // what the waiting read takes; more goes to a shared buffer
  read_op_slot read_slot_;
  admission_gate::ticket admitted_;
  std::atomic<clock::rep> last_read_;
  std::atomic<clock::rep> close_started_{0};
  std::atomic<clock::rep> write_started_{0};  // 0: no write in progress
  std::atomic<std::size_t> inbound_held_{0};  // bytes of messages the actors still hold

  mutable std::mutex mutex_;  // guards the members below: send() and close() come from any thread
  std::vector<outgoing> pending_;
  std::size_t queued_bytes_ = 0;  // pending_ and the write in progress
  static constexpr std::size_t no_pong = SIZE_MAX;
  std::size_t pending_pong_ = no_pong;  // its index in pending_
  // A flush is posted to the network thread, or a send_deferred caller was asked to write: either
  // way a write of pending_ is on its way, and no one else starts one.
  bool flush_posted_ = false;
  bool writing_ = false;
  bool closing_ = false;  // our close frame is queued: nothing more is accepted
  bool close_written_ = false;
  bool finished_flag_ = false;
  // Not guarded by the mutex (it is atomic): it sits here to share the flags' 8 bytes.
  std::atomic<bool> read_paused_{false};
  std::size_t dropped_ = 0;

  // Owned by the write in progress (on the connection's executor only). Small frames are copied
  // into the buffer; large ones and shared bodies are written from where they are, held
  // meanwhile. Made by the first queued write: a connection whose writes all went out at once
  // (the upgrade response, direct replies) never has one.
  struct write_state {
    std::vector<outgoing> batch;
    std::string buffer;
    std::vector<std::shared_ptr<const std::string>> shared;
    std::vector<boost::asio::const_buffer> parts;
    std::size_t bytes = 0;
  };
  std::unique_ptr<write_state> write_;
};

}  // namespace beryl
