#include "transport/ws_connection.hpp"

#include "actors/message_types.hpp"
#include "actors/stop_reason.hpp"
#include "core/counters.hpp"
#include "core/log_metadata.hpp"
#include "core/telemetry.hpp"
#include "transport/client_log.hpp"
#include "transport/inbound_lease.hpp"
#include "transport/network_unit.hpp"
#include "transport/peer.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <caf/send.hpp>

#include <sys/socket.h>
#include <sys/uio.h>
#include <algorithm>
#include <array>
#include <cerrno>

namespace asio = boost::asio;

namespace beryl {
namespace {

// Read per wake-up, into a buffer shared by all connections of a thread.
constexpr std::size_t read_chunk = 64 * 1024;
// A write buffer grown past this by a burst is released once the burst is written.
constexpr std::size_t keep_write_capacity = 64 * 1024;
// Frames larger than this are written from their shared buffer instead of copied into the write
// buffer; smaller ones are cheaper to copy than to give an iovec of their own.
constexpr std::size_t copy_limit = 2048;
// A reply or push larger than this is not written from the sending actor's thread: the
// connection's mutex is held for the whole send, and what the socket does not take is copied.
// Up to it, a big room's presence_state is written by the actor threads, which leaves the
// network thread to the joins (measured: a 2,000-member join storm ~8 % more joins/s with a
// 1 MB limit than with 16 KB; docs/architecture.md §3.2).
constexpr std::size_t direct_write_limit = 256 * 1024;
// A broadcast frame at least this large, and up to direct_write_limit, is written by the caller's
// thread that asked for it (send_deferred: the pubsub's outbox writers). Smaller ones are left to
// the network thread, which coalesces a connection's burst of them into one write (measured:
// 2,000 members × 1,000 small broadcasts/s, 0.64× the deliveries when the writers wrote them);
// larger ones too, as for direct writes, so that a cut write never copies more than that limit.
constexpr std::size_t deferred_write_min = 4096;
// How long a started close handshake may take before the socket is closed anyway.
constexpr auto close_handshake_limit = std::chrono::seconds(3);

char* thread_read_buffer() {
  thread_local std::array<char, read_chunk> buffer;
  return buffer.data();
}

}  // namespace

ws_connection::ws_connection(byte_stream stream, const transport_settings& settings,
                             const serializer* format, std::shared_ptr<registry> registry,
                             admission_gate::ticket admitted)
    : stream_(std::move(stream)),
      settings_(settings),
      format_(format),
      registry_(std::move(registry)),
      decoder_(settings.max_frame_size),
      admitted_(std::move(admitted)),
      last_read_(clock::now().time_since_epoch().count()) {}

// A connection that never finished (its io_context stopped first) still leaves the list.
ws_connection::~ws_connection() {
  if (registry_) registry_->remove(this);
}

template <class F>
decltype(auto) ws_connection::with_stream(F&& f) {
  if (auto* plain = std::get_if<plain_socket>(&stream_)) return f(*plain);
  return f(*std::get<std::unique_ptr<tls_stream>>(stream_));
}

plain_socket& ws_connection::tcp_socket() {
  if (auto* plain = std::get_if<plain_socket>(&stream_)) return *plain;
  return std::get<std::unique_ptr<tls_stream>>(stream_)->next_layer();
}

void ws_connection::start(socket_actor socket, std::string handshake_response,
                          std::string early_bytes) {
  actor_ = std::move(socket);
  network_unit::turn turn(network_unit::current());
  // Written at once from here when the socket takes it, as it nearly always does: a connection
  // that then stays idle has never allocated a write buffer or a queue.
  enqueue({frame::text(std::move(handshake_response)), ws::opcode::text, true}, writer::caller_now);
  boost::system::error_code ec;
  tcp_socket().non_blocking(true, ec);
  tcp_socket().set_option(asio::ip::tcp::no_delay(true), ec);
  if (!early_bytes.empty()) feed(early_bytes.data(), early_bytes.size());
  read_more_or_pause();
}

// ---------------------------------------------------------------------------------- reading

// A read into a few bytes of the connection's own, rather than async_wait: Asio re-arms epoll
// with a syscall for every wait, but not for a read, which it also tries at once.
void ws_connection::wait_readable() {
  with_stream([this](auto& stream) {
    stream.async_read_some(asio::buffer(first_bytes_), read_handler{shared_from_this()});
  });
}

void ws_connection::on_readable(const boost::system::error_code& ec, std::size_t first) {
  network_unit::turn turn(network_unit::current());
  if (ec) {
    finish();
    return;
  }
  last_read_ = clock::now().time_since_epoch().count();
  feed(first_bytes_.data(), first);
  if (first < first_bytes_.size()) {
    read_more_or_pause();
    return;
  }
  // The rest of what arrived goes through the buffer shared by the thread's connections.
  char* buffer = thread_read_buffer();
  // A few reads per wake-up at most, so one busy client cannot starve the others.
  for (int i = 0; i < 4 && !over_inbound_budget(); ++i) {
    // A TLS read may have to write (a TLS 1.3 KeyUpdate answered at once): not beside a write in
    // progress, which the next asynchronous read waits for instead.
    if (tls() && write_started_ != 0) break;
    boost::system::error_code read_ec;
    // Over TLS this decrypts what is buffered first, and reads the socket only when that is all
    // taken; on the non-blocking socket it never waits.
    auto n = with_stream(
        [&](auto& stream) { return stream.read_some(asio::buffer(buffer, read_chunk), read_ec); });
    if (read_ec == asio::error::would_block) break;
    if (read_ec) {
      finish();
      return;
    }
    last_read_ = clock::now().time_since_epoch().count();
    feed(buffer, n);
    if (n < read_chunk && !tls()) break;  // a TLS read returns one record at most
  }
  read_more_or_pause();
}

// Messages the actors still hold count, and so does an unfinished one; but with nothing held the
// connection is read whatever its unfinished message's size (up to --max-frame-size), or that
// message could never complete. A client that does not take its replies as fast as it sends
// requests is not read either (rather than closed as a slow consumer), until half its outbound
// budget is free again.
bool ws_connection::over_inbound_budget() const {
  auto held = inbound_held_.load();
  if (held > 0 && held + decoder_.buffered() > settings_.inbound_buffer_limit) return true;
  std::lock_guard lock(mutex_);
  return queued_bytes_ > settings_.outbound_buffer_limit / 2;
}

void ws_connection::read_more_or_pause() {
  if (!over_inbound_budget()) {
    wait_readable();
    return;
  }
  read_paused_ = true;
  // A release in between may not have seen the flag: look again.
  if (!over_inbound_budget() && read_paused_.exchange(false)) wait_readable();
}

void ws_connection::release_inbound(std::size_t bytes) {
  inbound_held_ -= bytes;
  if (read_paused_)
    asio::post(tcp_socket().get_executor(),
               [self = shared_from_this()] { self->resume_reading(); });
}

void ws_connection::resume_reading() {
  if (over_inbound_budget()) return;  // a later release looks again
  if (read_paused_.exchange(false)) wait_readable();
}

void ws_connection::feed(char* data, std::size_t size) {
  if (auto code = decoder_.feed(data, size, *this)) {
    close(code, code == close_code::too_big ? "message too big" : "protocol error");
  }
}

void ws_connection::on_message(std::string_view data, bool binary) {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
  }
  counters::add(counters::count::messages_in);
  counters::add(counters::count::bytes_in, data.size());
  auto decoded = format_->decode(data, binary);
  if (auto* error = std::get_if<decode_error>(&decoded)) {
    counters::add(counters::error::bad_message);
    auto peer = peer_of(tcp_socket());
    log_metadata_scope about({{}, {}, peer, {}});
    client_caused_log().info("closing a connection after an undecodable message: {}",
                             log_text(error->what));
    close(close_code::invalid_payload, "invalid message");
    return;
  }
  auto& m = std::get<message>(decoded);
  inbound_held_ += data.size();
  m.lease = make_inbound_lease(shared_from_this(), data.size());
  // The network thread runs what a client event wakes (docs/architecture.md §3.1). Joins and
  // leaves start and end channels, work the actor threads share better (measured: joins/s 0.77×,
  // churn 0.8× when the network thread ran them).
  bool control = m.event == events::join || m.event == events::leave;
  auto* unit = control ? nullptr : network_unit::current();
  if (unit)
    unit->deliver(actor_, std::move(m));
  else
    caf::anon_send(actor_, std::move(m));
}

void ws_connection::on_ping(std::string_view data) {
  enqueue({frame::bin(std::string(data)), ws::opcode::pong});
}

void ws_connection::on_close(std::uint16_t code, std::string_view) {
  // Echo the client's close (RFC 6455 §5.5.1), then end the channels.
  close(code == 1005 ? 1000 : code, {});
  stop_actor(make_error(stop_code::closed));
}

// ---------------------------------------------------------------------------------- writing

ws_connection::outgoing ws_connection::outgoing::of(frame f) {
  const auto op = f.binary ? ws::opcode::binary : ws::opcode::text;
  return {std::move(f), op};
}

void ws_connection::send(frame f) {
  enqueue(outgoing::of(std::move(f)));
}

void ws_connection::send_now(frame f) {
  enqueue(outgoing::of(std::move(f)), writer::caller_now);
}

bool ws_connection::send_deferred(frame f) {
  return enqueue(outgoing::of(std::move(f)), writer::caller_later);
}

void ws_connection::write_queued() {
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    flush_posted_ = false;
    if (writing_ || finished_flag_ || pending_.empty()) return;
    if (write_pending_locked() == write_outcome::failed) {
      asio::post(tcp_socket().get_executor(), [self = shared_from_this()] { self->finish(); });
      return;
    }
    post = flush_posted_ = !pending_.empty();
  }
  if (post) asio::post(tcp_socket().get_executor(), [self = shared_from_this()] { self->flush(); });
}

void ws_connection::close(std::uint16_t code, std::string reason) {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
  }
  enqueue({frame::bin(ws::close_frame(code, reason)), ws::opcode::close, true});
}

bool ws_connection::fits_locked(const outgoing& item) const {
  return pending_.size() < settings_.outbound_queue_limit &&
         queued_bytes_ + item.size() <= settings_.outbound_buffer_limit;
}

// RFC 6455 §5.5.3 allows answering only the most recent of several pings: a ping flood leaves
// one pong waiting, not one per ping.
bool ws_connection::replace_pending_pong_locked(outgoing& pong) {
  if (pending_pong_ == no_pong) return false;
  auto& waiting = pending_[pending_pong_];
  queued_bytes_ = queued_bytes_ - waiting.size() + pong.size();
  waiting.content = std::move(pong.content);
  return true;
}

bool ws_connection::enqueue(outgoing item, writer by) {
  bool deferred = false;
  if (auto overflow = enqueue_within_budget(item, by, deferred)) report_slow_consumer(*overflow);
  return deferred;
}

// The client's address when an outbound overflow is to be told to telemetry: the frame was
// dropped, or the connection is closing (counted and logged already).
std::optional<std::string> ws_connection::enqueue_within_budget(outgoing& item, writer by,
                                                                bool& deferred) {
  bool post = false;
  std::optional<std::string> told;
  {
    std::lock_guard lock(mutex_);
    if (closing_ || finished_flag_) return std::nullopt;
    if (item.op == ws::opcode::pong && replace_pending_pong_locked(item)) return std::nullopt;
    if (!item.whole && !fits_locked(item)) {
      // The client's next ping is answered instead.
      if (item.op == ws::opcode::pong) return std::nullopt;
      counters::add(counters::error::slow_consumer);
      bool drop = settings_.slow_consumer == slow_consumer_policy::drop;
      // Dropping, every frame lands here: the log and telemetry hear of the first drop and every
      // 1000th, and the client's address (a system call) is looked up only for them.
      if (!drop || dropped_++ % 1000 == 0) {
        told = peer_of(tcp_socket());
        log_metadata_scope about({{}, {}, *told, {}});
        if (drop)
          client_caused_log().warn("slow consumer: dropped {} frames so far", dropped_);
        else
          client_caused_log().warn("slow consumer: {} frames ({} bytes) queued, disconnecting",
                                   pending_.size(), queued_bytes_);
      }
      if (drop) return told;
      item = {frame::bin(ws::close_frame(close_code::try_again_later, "slow consumer")),
              ws::opcode::close, true};
    } else if (!item.whole && item.op != ws::opcode::pong) {
      counters::add(counters::count::messages_out);
      counters::add(counters::count::bytes_out, item.size());
    }
    if (item.op == ws::opcode::close) {
      closing_ = true;
      close_started_ = clock::now().time_since_epoch().count();
    } else if (by == writer::caller_now && !tls() && !writing_ && !flush_posted_ &&
               pending_.empty() && item.size() <= direct_write_limit) {
      // A reply with nothing queued and nothing being written: send it from this thread at once,
      // which spares the network thread a wake-up. (Broadcasts are queued: see send_deferred.)
      // What the socket does not take waits in the queue.
      auto outcome = write_now_locked(item);
      if (outcome == write_outcome::failed) {
        asio::post(tcp_socket().get_executor(), [self = shared_from_this()] { self->finish(); });
        return told;
      }
      if (outcome == write_outcome::all) return told;
    }
    if (item.op == ws::opcode::pong) pending_pong_ = pending_.size();
    queued_bytes_ += item.size();
    pending_.push_back(std::move(item));
    if (!flush_posted_ && !writing_) {
      // Over TLS only the network thread writes; small frames it coalesces.
      const std::size_t size = pending_.back().size();
      deferred = by == writer::caller_later && !tls() && size >= deferred_write_min &&
                 size <= direct_write_limit;
      post = !deferred;
      flush_posted_ = true;
    }
  }
  if (post) asio::post(tcp_socket().get_executor(), [self = shared_from_this()] { self->flush(); });
  return told;
}

void ws_connection::report_slow_consumer(const std::string& address) {
  if (!telemetry::attached(telemetry::event::slow_consumer)) return;
  std::size_t queued = 0;
  {
    std::lock_guard lock(mutex_);
    queued = queued_bytes_;
  }
  telemetry::metadata meta;
  meta.remote_address = address;
  meta.action = settings_.slow_consumer == slow_consumer_policy::drop ? "drop" : "disconnect";
  telemetry::execute(telemetry::event::slow_consumer, {std::chrono::nanoseconds(0), queued}, meta);
}

namespace {

// A queued frame's bytes as iovecs: its header (written into `header`), its text, and a shared
// body with what follows it. At most 4 parts.
int frame_parts(bool whole, ws::opcode op, const frame& f, unsigned char* header, iovec* parts) {
  int count = 0;
  auto add = [&](const void* data, std::size_t size) {
    if (size > 0) parts[count++] = {const_cast<void*>(data), size};
  };
  if (!whole) add(header, ws::server_header(op, f.size(), header));
  add(f.bytes->data(), f.bytes->size());
  if (f.shared_body) {
    add(f.shared_body->data(), f.shared_body->size());
    add(f.after_body.data(), f.after_body.size());
  }
  return count;
}

// Non-blocking whatever the socket's mode: the bytes sent, or -1 when the connection failed.
ssize_t send_parts(int fd, iovec* parts, int count) {
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = count;
  ssize_t sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent >= 0) return sent;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

// What of `parts` follows the first `sent` bytes.
std::string unsent_rest(const iovec* parts, int count, std::size_t sent) {
  std::string rest;
  for (int i = 0; i < count; ++i) {
    const auto* data = static_cast<const char*>(parts[i].iov_base);
    std::size_t size = parts[i].iov_len;
    std::size_t skip = std::min(sent, size);
    sent -= skip;
    rest.append(data + skip, size - skip);
  }
  return rest;
}

}  // namespace

// Under mutex_: finish() marks the connection finished under it before closing the socket, so
// the descriptor is open for as long as this runs.
ws_connection::write_outcome ws_connection::write_now_locked(outgoing& item) {
  unsigned char header[ws::max_header_size];
  std::array<iovec, 4> parts;
  int count = frame_parts(item.whole, item.op, item.content, header, parts.data());
  std::size_t total = 0;
  for (int i = 0; i < count; ++i) total += parts[i].iov_len;
  ssize_t sent = send_parts(tcp_socket().native_handle(), parts.data(), count);
  if (sent < 0) return write_outcome::failed;
  if (static_cast<std::size_t>(sent) == total) return write_outcome::all;
  // The unsent tail becomes a raw item at the head of the queue.
  item = {frame::bin(unsent_rest(parts.data(), count, sent)), item.op, true};
  return write_outcome::partial;
}

// Under mutex_, as write_now_locked. A close frame is left to flush(), which ends the writing.
ws_connection::write_outcome ws_connection::write_pending_locked() {
  constexpr std::size_t max_frames = 64;
  std::array<std::array<unsigned char, ws::max_header_size>, max_frames> headers;
  std::array<iovec, 4 * max_frames> parts;
  std::array<int, max_frames + 1> first_part{0};
  std::size_t frames = 0;
  int count = 0;
  for (; frames < std::min(max_frames, pending_.size()); ++frames) {
    const auto& item = pending_[frames];
    if (item.op == ws::opcode::close) break;
    count += frame_parts(item.whole, item.op, item.content, headers[frames].data(), &parts[count]);
    first_part[frames + 1] = count;
  }
  if (frames == 0) return write_outcome::partial;
  ssize_t sent = send_parts(tcp_socket().native_handle(), parts.data(), count);
  if (sent < 0) return write_outcome::failed;
  std::size_t left = sent;
  std::size_t done = 0;
  for (; done < frames; ++done) {
    std::size_t bytes = 0;
    for (int i = first_part[done]; i < first_part[done + 1]; ++i) bytes += parts[i].iov_len;
    if (left < bytes) break;
    left -= bytes;
    queued_bytes_ -= pending_[done].size();
  }
  if (done < frames && left > 0) {
    // The frame cut short: its unsent tail stays at the head of the queue.
    auto& cut = pending_[done];
    int at = first_part[done];
    std::string rest = unsent_rest(&parts[at], first_part[done + 1] - at, left);
    queued_bytes_ = queued_bytes_ - cut.size() + rest.size();
    cut = {frame::bin(std::move(rest)), cut.op, true};
    if (pending_pong_ == done) pending_pong_ = no_pong;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  if (pending_pong_ != no_pong)
    pending_pong_ = pending_pong_ < done ? no_pong : pending_pong_ - done;
  return pending_.empty() ? write_outcome::all : write_outcome::partial;
}

void ws_connection::flush() {
  {
    std::lock_guard lock(mutex_);
    flush_posted_ = false;
    if (writing_ || pending_.empty() || finished_flag_) return;
    writing_ = true;
    if (!write_) write_ = std::make_unique<write_state>();
    write_->batch.swap(pending_);
    pending_pong_ = no_pong;
  }
  write_state& w = *write_;
  // Reserved in full first, so that the parts pointing into the buffer stay valid.
  // TLS encrypts a copy anyway: one buffer makes whole records.
  const std::size_t copy_up_to = tls() ? SIZE_MAX : copy_limit;
  std::size_t copied = 0;
  w.bytes = 0;
  for (const auto& item : w.batch) {
    w.bytes += item.size();
    const frame& f = item.content;
    copied += ws::max_header_size + f.after_body.size() +
              (item.whole || f.bytes->size() <= copy_up_to ? f.bytes->size() : 0);
    if (tls() && f.shared_body) copied += f.shared_body->size();
  }
  w.buffer.clear();
  w.buffer.reserve(copied);
  std::size_t unlisted = 0;  // where the bytes not yet in w.parts start
  auto list_copied = [&] {
    if (w.buffer.size() > unlisted)
      w.parts.emplace_back(w.buffer.data() + unlisted, w.buffer.size() - unlisted);
    unlisted = w.buffer.size();
  };
  auto list_shared = [&](const std::shared_ptr<const std::string>& bytes) {
    list_copied();
    w.parts.emplace_back(bytes->data(), bytes->size());
    w.shared.push_back(bytes);
  };
  for (const auto& item : w.batch) {
    if (item.whole) {
      w.buffer += *item.content.bytes;
      if (item.op != ws::opcode::close) continue;
      close_written_ = true;
      break;  // nothing goes after a close frame
    }
    unsigned char header[ws::max_header_size];
    auto n = ws::server_header(item.op, item.size(), header);
    w.buffer.append(reinterpret_cast<const char*>(header), n);
    const frame& f = item.content;
    if (f.bytes->size() <= copy_up_to)
      w.buffer += *f.bytes;
    else
      list_shared(f.bytes);
    if (f.shared_body) {
      if (tls())
        w.buffer += *f.shared_body;
      else
        list_shared(f.shared_body);
      w.buffer += f.after_body;
    }
  }
  list_copied();
  w.batch.clear();  // the parts hold what they need now: don't keep the rest
  write_started_ = clock::now().time_since_epoch().count();
  with_stream([this, &w](auto& stream) {
    asio::async_write(stream, w.parts,
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  std::size_t) { self->on_written(ec); });
  });
}

void ws_connection::on_written(const boost::system::error_code& ec) {
  write_started_ = 0;
  write_state& w = *write_;
  if (w.buffer.capacity() > keep_write_capacity) std::string().swap(w.buffer);
  w.shared.clear();
  w.parts.clear();
  if (ec) {
    finish();
    return;
  }
  if (close_written_) {
    // Half-close: the client answers our close frame and closes; reading sees the end. (Over
    // TLS without a close_notify: the WebSocket close frame already ended the conversation.)
    boost::system::error_code ignored;
    tcp_socket().shutdown(plain_socket::shutdown_send, ignored);
  }
  bool more = false;
  {
    std::lock_guard lock(mutex_);
    writing_ = false;
    queued_bytes_ -= w.bytes;
    more = !pending_.empty() && !close_written_;
  }
  if (read_paused_) resume_reading();
  if (more) flush();
}

// ---------------------------------------------------------------------------------- ending

void ws_connection::check_timeouts(clock::time_point now) {
  auto started = close_started_.load();
  if (started && now - clock::time_point(clock::duration(started)) > close_handshake_limit) {
    asio::post(tcp_socket().get_executor(), [self = shared_from_this()] { self->finish(); });
    return;
  }
  // A client that takes none of our data is not kept alive by sending (pings, say): it cannot
  // read a close frame either, so the socket is just closed.
  auto writing = write_started_.load();
  if (writing && now - clock::time_point(clock::duration(writing)) > settings_.idle_timeout) {
    spdlog::debug("closing a connection that has not read for {} ms",
                  settings_.idle_timeout.count());
    asio::post(tcp_socket().get_executor(), [self = shared_from_this()] { self->finish(); });
    return;
  }
  // Not reading on purpose (the inbound budget is full) is not the client's silence.
  if (!started && !read_paused_ &&
      now - clock::time_point(clock::duration(last_read_.load())) > settings_.idle_timeout) {
    spdlog::debug("closing an idle connection");
    close(close_code::going_away, "idle timeout");
  }
}

// The close frame first: the socket actor, once stopped, closes its connection with 1001, which
// must not overtake `code` (a busy machine can run the posted stop before this thread goes on).
void ws_connection::shut_down(const caf::error& reason, std::uint16_t code) {
  close(code, "server shutting down");
  asio::post(tcp_socket().get_executor(),
             [self = shared_from_this(), reason] { self->stop_actor(reason); });
}

bool ws_connection::closing() const {
  std::lock_guard lock(mutex_);
  return closing_;
}

void ws_connection::stop_actor(const caf::error& reason) {
  send_stop(caf::actor_cast<caf::actor>(actor_), reason);
  actor_ = nullptr;
}

void ws_connection::finish() {
  {
    std::lock_guard lock(mutex_);
    if (finished_flag_) return;
    finished_flag_ = true;
    pending_.clear();
    pending_pong_ = no_pong;
  }
  boost::system::error_code ignored;
  tcp_socket().close(ignored);
  stop_actor(make_error(stop_code::closed));
  if (registry_) registry_->remove(this);
}

}  // namespace beryl
