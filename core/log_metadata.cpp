#include "core/log_metadata.hpp"

namespace beryl {
namespace {

thread_local log_metadata current;

}  // namespace

const log_metadata& current_log_metadata() noexcept {
  return current;
}

log_metadata_scope::log_metadata_scope(const log_metadata& fields) noexcept : previous_(current) {
  if (!fields.socket_id.empty()) current.socket_id = fields.socket_id;
  if (!fields.topic.empty()) current.topic = fields.topic;
  if (!fields.remote_address.empty()) current.remote_address = fields.remote_address;
  if (!fields.child.empty()) current.child = fields.child;
}

log_metadata_scope::~log_metadata_scope() {
  current = previous_;
}

}  // namespace beryl
