#pragma once
// How messages become frames and back. Actors only see this interface; the wire formats (V1 and
// V2 JSON, V2 binary) live in transport/, so actors never depend on transport.
#include "core/frame.hpp"
#include "core/message.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace beryl {

// Why an inbound frame could not be decoded; the transport closes the connection with 1007.
struct decode_error {
  std::string what;
};

using decode_result = std::variant<message, decode_error>;

class serializer {
 public:
  virtual ~serializer() = default;

  virtual std::string_view name() const = 0;

  virtual decode_result decode(std::string_view data, bool binary) const = 0;

  // A reply to message `ref`: payload {"status": status, "response": response}.
  virtual frame reply(const ref_t& join_ref, const ref_t& ref, std::string_view topic,
                      std::string_view status, const payload& response) const = 0;
  // A channel push: [J, null, topic, event, payload].
  virtual frame push(const ref_t& join_ref, std::string_view topic, std::string_view event,
                     const payload& body) const = 0;
  // The same push with a body already written as JSON object text (wire::append_json): a payload
  // encoded once and pushed to many clients, such as a topic's presence_state. The frame shares
  // the text instead of copying it.
  virtual frame push_text(const ref_t& join_ref, std::string_view topic, std::string_view event,
                          std::shared_ptr<const std::string> object_text) const = 0;
  // A topic broadcast: [null, null, topic, event, payload].
  virtual frame broadcast(std::string_view topic, std::string_view event,
                          const payload& body) const = 0;
  // phx_close / phx_error: [J, J, topic, event, body].
  virtual frame control(const ref_t& join_ref, std::string_view topic, std::string_view event,
                        const boost::json::object& body) const = 0;

  // Whether this format can carry a binary payload (V1 cannot).
  virtual bool supports_binary() const = 0;
};

}  // namespace beryl
