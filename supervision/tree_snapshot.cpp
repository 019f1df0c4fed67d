#include "supervision/tree_snapshot.hpp"

#include <memory>
#include <utility>

#include <boost/json/array.hpp>

#include "caf/event_based_actor.hpp"

#include "supervision/messages.hpp"

namespace beryl::supervision::detail {

namespace {

// caf::result<T>'s value constructor writes T{x}, and boost::json::value{x} is an array holding x
// (Boost.JSON's initializer-list constructor). From a caf::expected, result moves the value into
// the message as it is.
caf::result<boost::json::value> reply(boost::json::object node) {
  return caf::expected<boost::json::value>(boost::json::value(std::move(node)));
}

struct pending_snapshot {
  boost::json::object node;
  boost::json::array children;
  std::size_t outstanding = 0;
  caf::typed_response_promise<boost::json::value> promise;

  void finish_one() {
    if (--outstanding > 0) return;
    node["children"] = std::move(children);
    promise.deliver(boost::json::value(std::move(node)));
  }
};

void merge_subtree(boost::json::object& entry, boost::json::value& reply) {
  if (!reply.is_object()) {
    entry["snapshot_error"] = "malformed subtree";
    return;
  }
  auto merged = std::move(reply.as_object());
  for (auto& field : entry) {
    if (field.key() != "state" && field.key() != "kind") merged[field.key()] = field.value();
  }
  entry = std::move(merged);
}

}  // namespace

caf::result<boost::json::value> answer_snapshot(caf::event_based_actor* self,
                                                boost::json::object node,
                                                std::vector<snapshot_entry> children) {
  auto pending = std::make_shared<pending_snapshot>();
  pending->node = std::move(node);
  pending->children.reserve(children.size());
  for (auto& child : children) {
    pending->children.emplace_back(std::move(child.node));
    if (child.subtree) ++pending->outstanding;
  }
  if (pending->outstanding == 0) {
    pending->node["children"] = std::move(pending->children);
    return reply(std::move(pending->node));
  }
  pending->promise = self->make_response_promise<boost::json::value>();
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (!children[i].subtree) continue;
    self->request(children[i].subtree, subtree_timeout, snapshot_atom::value)
        .then(
            [pending, i](boost::json::value& reply) {
              merge_subtree(pending->children[i].as_object(), reply);
              pending->finish_one();
            },
            [self, pending, i](caf::error& err) {
              pending->children[i].as_object()["snapshot_error"] = self->system().render(err);
              pending->finish_one();
            });
  }
  return pending->promise;
}

boost::json::value reason_to_json(caf::actor_system& sys, const caf::error& reason) {
  if (!reason) return nullptr;
  return boost::json::string{sys.render(reason)};
}

}  // namespace beryl::supervision::detail
