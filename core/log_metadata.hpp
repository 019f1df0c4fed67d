#pragma once
// What a log line is about, beside its text: the connection (socket id, remote address), the
// topic, the supervised child. Set for the calling thread around a log call (spdlog's default
// logger formats synchronously, in the caller's thread), and read by whatever formats the line:
// the JSON log format writes these as fields of their own (app/runtime/log_format.hpp); the text
// format ignores them. Pure: std only.
//
// The fields are views: what they point to must outlive the scope that set them. An empty field
// is unknown, and is left out of the line.
#include <string_view>

namespace beryl {

struct log_metadata {
  std::string_view socket_id;
  std::string_view topic;
  std::string_view remote_address;  // the client's "address:port"
  std::string_view child;           // a supervisor's child, by name

  bool empty() const {
    return socket_id.empty() && topic.empty() && remote_address.empty() && child.empty();
  }
};

// This thread's metadata: empty outside every log_metadata_scope.
const log_metadata& current_log_metadata() noexcept;

// Sets this thread's metadata until it ends, then restores what was there before. The fields
// given (non-empty) replace the enclosing scope's; the others keep their values, so a scope that
// names a topic inside one that names the connection gives lines both.
class log_metadata_scope {
 public:
  explicit log_metadata_scope(const log_metadata& fields) noexcept;
  ~log_metadata_scope();

  log_metadata_scope(const log_metadata_scope&) = delete;
  log_metadata_scope& operator=(const log_metadata_scope&) = delete;

 private:
  log_metadata previous_;
};

// Shorthands for the common single-field scopes.
inline log_metadata log_child(std::string_view name) {
  return {{}, {}, {}, name};
}
inline log_metadata log_topic(std::string_view topic) {
  return {{}, topic, {}, {}};
}

}  // namespace beryl
