#pragma once
// Our types inside CAF messages. They never cross a process boundary (cluster messages use only
// built-in types), so they are allowed without serialization support.
#include "core/frame.hpp"
#include "core/message.hpp"
#include "core/payload.hpp"
#include "supervision/messages.hpp"  // allows boost::json::value (snapshots, stats)

#include <caf/allowed_unsafe_message_type.hpp>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::ref_t)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::payload)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(beryl::frame)
