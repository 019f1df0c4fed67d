// transport/op_slot: a pending operation's memory inside the object that starts it.
#include "transport/op_slot.hpp"
#include "transport/plain_socket.hpp"

#include <doctest/doctest.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <string>

namespace asio = boost::asio;
using namespace beryl;

TEST_CASE("an op slot holds one allocation that fits, and other memory serves the rest") {
  op_slot<64> slot;
  void* first = slot.allocate(64);
  void* while_taken = slot.allocate(16);
  void* too_big = slot.allocate(65);
  CHECK(first != while_taken);
  CHECK(first != too_big);
  slot.deallocate(while_taken, 16);
  slot.deallocate(too_big, 65);
  slot.deallocate(first, 64);
  CHECK(slot.allocate(32) == first);  // free again once its allocation is given back
  slot.deallocate(first, 32);
}

namespace {

// The shape of ws_connection's waiting read: a handler holding its owner, whose operation Asio
// builds in the owner's slot.
struct reader : std::enable_shared_from_this<reader> {
  explicit reader(asio::io_context& io) : socket(io.get_executor()) {}

  struct handler {
    using allocator_type = op_slot<128>::allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(self->slot); }
    void operator()(const boost::system::error_code& ec, std::size_t n) const {
      void* p = self->slot.allocate(1);
      self->slot_free_in_handler = p == self->slot_address;
      self->slot.deallocate(p, 1);
      self->received = ec ? "error" : std::string(self->bytes.data(), n);
    }
    std::shared_ptr<reader> self;
  };

  void start() { socket.async_read_some(asio::buffer(bytes), handler{shared_from_this()}); }

  plain_socket socket;
  op_slot<128> slot;
  void* slot_address = nullptr;
  std::array<char, 64> bytes{};
  std::string received;
  bool slot_free_in_handler = false;
};

}  // namespace

TEST_CASE("a pending TCP read with a slot's allocator is built in a 128-byte slot") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  auto server = std::make_shared<reader>(io);
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server->socket);

  // Where the slot's memory is: taken and given back, so the read finds it free.
  server->slot_address = server->slot.allocate(1);
  server->slot.deallocate(server->slot_address, 1);

  server->start();
  // The read is pending (nothing was sent): if its operation is in the slot, the slot is taken
  // and a new allocation gets other memory.
  void* probe = server->slot.allocate(1);
  CHECK(probe != server->slot_address);
  server->slot.deallocate(probe, 1);

  asio::write(client, asio::buffer(std::string("hello")));
  io.run();
  CHECK(server->received == "hello");
  CHECK(server->slot_free_in_handler);  // Asio gave the memory back before calling the handler
}
