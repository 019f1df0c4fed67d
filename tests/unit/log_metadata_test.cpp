#include "core/log_metadata.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>

using beryl::current_log_metadata;
using beryl::log_child;
using beryl::log_metadata;
using beryl::log_metadata_scope;
using beryl::log_topic;

TEST_CASE("log metadata: empty outside every scope; a scope sets it and restores it on exit") {
  CHECK(current_log_metadata().empty());
  {
    log_metadata_scope scope({"users_socket:42", "room:lobby", "127.0.0.1:5000", "pubsub"});
    const auto& now = current_log_metadata();
    CHECK(now.socket_id == "users_socket:42");
    CHECK(now.topic == "room:lobby");
    CHECK(now.remote_address == "127.0.0.1:5000");
    CHECK(now.child == "pubsub");
  }
  CHECK(current_log_metadata().empty());
}

TEST_CASE("log metadata: an inner scope replaces the fields it knows and keeps the others") {
  log_metadata_scope connection({"id-1", {}, "10.0.0.1:1234", {}});
  {
    log_metadata_scope topic(log_topic("room:a"));
    CHECK(current_log_metadata().socket_id == "id-1");
    CHECK(current_log_metadata().remote_address == "10.0.0.1:1234");
    CHECK(current_log_metadata().topic == "room:a");
    {
      log_metadata_scope other({"id-2", "room:b", {}, {}});
      CHECK(current_log_metadata().socket_id == "id-2");
      CHECK(current_log_metadata().topic == "room:b");
      CHECK(current_log_metadata().remote_address == "10.0.0.1:1234");
    }
    CHECK(current_log_metadata().socket_id == "id-1");
    CHECK(current_log_metadata().topic == "room:a");
  }
  CHECK(current_log_metadata().topic.empty());
  CHECK(current_log_metadata().socket_id == "id-1");
  CHECK(current_log_metadata().child.empty());
}

TEST_CASE("log metadata: each thread has its own") {
  log_metadata_scope scope(log_child("channels"));
  bool other_empty = false;
  std::string other_child;
  std::thread other([&] {
    other_empty = current_log_metadata().empty();
    log_metadata_scope mine(log_child("listener"));
    other_child = std::string(current_log_metadata().child);
  });
  other.join();
  CHECK(other_empty);
  CHECK(other_child == "listener");
  CHECK(current_log_metadata().child == "channels");
}
