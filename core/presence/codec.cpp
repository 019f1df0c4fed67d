#include "core/presence/codec.hpp"

#include <boost/json.hpp>

#include <memory>
#include <stdexcept>

namespace beryl::presence {
namespace {

namespace json = boost::json;

json::array encode_clocks(const clock_map& clocks) {
  json::array out;
  for (const auto& [replica, clock] : clocks)
    out.push_back(json::array{replica.node, replica.vsn, clock});
  return out;
}

json::array encode_clouds(const cloud_map& clouds) {
  json::array out;
  for (const auto& [replica, dots] : clouds) {
    if (dots.empty()) continue;
    json::array clocks;
    for (auto clock : dots) clocks.push_back(clock);
    out.push_back(json::array{replica.node, replica.vsn, std::move(clocks)});
  }
  return out;
}

json::array encode_values(const entry_map& values) {
  json::array out;
  for (const auto& [tag, e] : values) {
    json::value previous = nullptr;
    if (e->previous_clock) previous = *e->previous_clock;
    out.push_back(json::array{tag.replica.node, tag.replica.vsn, tag.clock, e->topic, e->key,
                              e->pid, e->meta, previous});
  }
  return out;
}

struct malformed : std::runtime_error {
  malformed() : std::runtime_error("malformed presence state") {}
};

const json::array& tuple_of(const json::value& v, std::size_t size) {
  const auto& items = v.as_array();
  if (items.size() != size) throw malformed();
  return items;
}

replica_id decode_replica(const json::array& items) {
  return {std::string(items[0].as_string()), std::string(items[1].as_string())};
}

std::uint64_t decode_clock(const json::value& v) {
  return v.to_number<std::uint64_t>();
}

std::uint64_t decode_dot_clock(const json::value& v) {
  auto clock = decode_clock(v);
  if (clock == 0) throw malformed();  // dots start at 1
  return clock;
}

clock_map decode_clocks(const json::value& v) {
  clock_map out;
  for (const auto& item : v.as_array()) {
    const auto& fields = tuple_of(item, 3);
    if (!out.emplace(decode_replica(fields), decode_clock(fields[2])).second) throw malformed();
  }
  return out;
}

cloud_map decode_clouds(const json::value& v) {
  cloud_map out;
  for (const auto& item : v.as_array()) {
    const auto& fields = tuple_of(item, 3);
    std::set<std::uint64_t> dots;
    for (const auto& clock : fields[2].as_array()) {
      if (!dots.insert(decode_dot_clock(clock)).second) throw malformed();
    }
    if (dots.empty() || !out.emplace(decode_replica(fields), std::move(dots)).second) {
      throw malformed();
    }
  }
  return out;
}

entry_map decode_values(const json::value& v) {
  entry_map out;
  for (const auto& item : v.as_array()) {
    const auto& fields = tuple_of(item, 8);
    dot tag{decode_replica(fields), decode_dot_clock(fields[2])};
    std::optional<std::uint64_t> previous;
    if (!fields[7].is_null()) {
      previous = decode_dot_clock(fields[7]);
      if (*previous >= tag.clock) throw malformed();  // an update's old version came before it
    }
    auto e = std::make_shared<const entry>(
        std::string(fields[3].as_string()), std::string(fields[4].as_string()),
        std::string(fields[5].as_string()), fields[6].as_object(), tag, previous);
    if (!out.emplace(std::move(tag), std::move(e)).second) throw malformed();
  }
  return out;
}

}  // namespace

json::value to_json(const replica_id& replica) {
  return json::array{replica.node, replica.vsn};
}

json::value to_json(const clock_map& clocks) {
  return encode_clocks(clocks);
}

json::value to_json(const snapshot& s) {
  return json::object{{"context", encode_clocks(s.causality.context)},
                      {"clouds", encode_clouds(s.causality.clouds)},
                      {"values", encode_values(s.values)}};
}

json::value to_json(const delta& d) {
  return json::object{{"start", encode_clocks(d.start)},
                      {"end", encode_clocks(d.end)},
                      {"clouds", encode_clouds(d.clouds)},
                      {"values", encode_values(d.values)}};
}

replica_id replica_from_json(const json::value& v) {
  return decode_replica(tuple_of(v, 2));
}

clock_map clocks_from_json(const json::value& v) {
  return decode_clocks(v);
}

snapshot snapshot_from_json(const json::value& v) {
  const auto& obj = object_with(v, {"context", "clouds", "values"});
  snapshot out;
  out.causality.context = decode_clocks(obj.at("context"));
  out.causality.clouds = decode_clouds(obj.at("clouds"));
  out.values = decode_values(obj.at("values"));
  return out;
}

delta delta_from_json(const json::value& v) {
  const auto& obj = object_with(v, {"start", "end", "clouds", "values"});
  delta out;
  out.start = decode_clocks(obj.at("start"));
  out.end = decode_clocks(obj.at("end"));
  out.clouds = decode_clouds(obj.at("clouds"));
  out.values = decode_values(obj.at("values"));
  return out;
}

const json::object& object_with(const json::value& v,
                                std::initializer_list<std::string_view> keys) {
  const auto& obj = v.as_object();
  if (obj.size() != keys.size()) throw malformed();
  for (auto key : keys) {
    if (!obj.contains(key)) throw malformed();
  }
  return obj;
}

std::string encode(const snapshot& s) {
  return json::serialize(to_json(s));
}

std::string encode(const delta& d) {
  return json::serialize(to_json(d));
}

std::optional<snapshot> decode_snapshot(std::string_view text) {
  return read_json(text, snapshot_from_json);
}

std::optional<delta> decode_delta(std::string_view text) {
  return read_json(text, delta_from_json);
}

}  // namespace beryl::presence
