#include "core/presence/size_limit.hpp"

#include <boost/json/serializer.hpp>

namespace beryl::presence {

bool within_size_limit(std::string_view key, const boost::json::object& meta, std::size_t limit) {
  if (limit == 0) return true;
  std::size_t size = key.size();
  if (size > limit) return false;
  boost::json::serializer encoder;
  encoder.reset(&meta);
  char chunk[512];
  while (!encoder.done()) {
    size += encoder.read(chunk, sizeof chunk).size();
    if (size > limit) return false;
  }
  return true;
}

}  // namespace beryl::presence
