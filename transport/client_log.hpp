#pragma once
// Transport-internal: the log of what any client can cause by itself (an undecodable message, a
// slow consumer, a long-poll message refused). One for the process, rate-limited like a
// connection's own (actors/limited_log.hpp), since a client can open connection after
// connection; client text in the arguments still goes through log_text().
#include "actors/limited_log.hpp"
#include "core/log_text.hpp"

namespace beryl {

inline limited_log& client_caused_log() {
  static limited_log log;
  return log;
}

}  // namespace beryl
