// What operators see: crash injection, the snapshot tree and the log lines.

#include "supervision_test_support.hpp"

using namespace sup_test;
using beryl::supervision::restart_strategy;
using beryl::supervision::restart_type;
using beryl::supervision::supervision_errc;

namespace {

// The keys of a snapshot node in order, as GET /debug/supervision writes them.
std::string keys(const boost::json::object& node) {
  std::string out;
  for (auto& field : node) out += (out.empty() ? "" : ",") + std::string(field.key());
  return out;
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "supervision: crash injection takes the normal restart path") {
  auto root = start({"root", restart_strategy::one_for_one, 1, std::chrono::seconds(10)},
                    {worker(events, "a"), worker(events, "b")});
  CHECK_FALSE(sv::inject_crash(sys, root, "b"));
  REQUIRE(eventually([&] { return events->incarnations("b") == 2; }));
  CHECK(events->last_reason("b") == caf::sec::runtime_error);
  auto node = child_node(snapshot(root), "b");
  CHECK(node.at("restarts") == 1);
  CHECK(str(node.at("last_exit_reason")).find("injected crash") != std::string::npos);
  // Logged like any crash and restart: supervisor, child, reason, restart count.
  CHECK(logs.has_line_with({"supervisor 'root'", "child 'b' terminated abnormally",
                            "injected crash", "restarted 0 times so far"}));
  CHECK(logs.has_line_with(
      {"supervisor 'root'", "restarted child 'b'", "restart #1", "injected crash"}));

  auto unknown = sv::inject_crash(sys, root, "nobody");
  CHECK(unknown == supervision_errc::no_such_child);

  // It counts toward the restart intensity (max 1 here) exactly like a real crash.
  CHECK_FALSE(sv::inject_crash(sys, root, "a"));
  auto down = wait_down(sys, root);
  REQUIRE(down.down);
  CHECK(down.reason == supervision_errc::restart_intensity_exceeded);
  CHECK(events->incarnations("a") == 1);
}

TEST_CASE_FIXTURE(fixture, "supervision: snapshot describes the live tree as JSON") {
  auto channels = sv::dynamic_supervisor_spec({"channels", 3, std::chrono::seconds(5), 0, 3});
  channels.registered = true;
  auto root =
      start({"root", restart_strategy::rest_for_one},
            {worker(events, "pubsub"),
             sv::supervisor_spec({"inner", restart_strategy::one_for_all}, {worker(events, "x")}),
             channels});
  for (int i = 0; i < 5; ++i)
    REQUIRE(
        sv::start_child(sys, sv::lookup(sys, "channels"),
                        sv::worker_spec("topic:" + std::to_string(i), worker_start(events, "topic"),
                                        restart_type::temporary)));
  auto snap = snapshot(root);
  CHECK(snap.at("name") == "root");
  CHECK(snap.at("kind") == "supervisor");
  CHECK(snap.at("strategy") == "rest_for_one");
  CHECK(snap.at("state") == "running");
  CHECK(snap.at("restarts") == 0);
  CHECK(snap.at("last_exit_reason").is_null());
  CHECK(snap.at("mailbox_size").is_number());
  REQUIRE(snap.at("children").as_array().size() == 3);

  auto& pubsub = child_node(snap, "pubsub");
  CHECK(pubsub.at("kind") == "worker");
  CHECK(pubsub.at("restart") == "permanent");
  CHECK(pubsub.at("state") == "running");
  CHECK(pubsub.at("restarts") == 0);
  CHECK(pubsub.at("last_exit_reason").is_null());
  CHECK(pubsub.at("id").to_number<caf::actor_id>() == events->ids("pubsub")[0]);
  CHECK_FALSE(pubsub.contains("mailbox_size"));  // not safely readable for other actors

  auto& inner = child_node(snap, "inner");
  CHECK(inner.at("kind") == "supervisor");
  CHECK(inner.at("strategy") == "one_for_all");
  CHECK(inner.at("mailbox_size").is_number());
  CHECK(child_node(inner, "x").at("state") == "running");

  auto& dyn = child_node(snap, "channels");
  CHECK(dyn.at("kind") == "dynamic_supervisor");
  CHECK(dyn.at("active") == 5);
  CHECK(dyn.at("started") == 5);
  CHECK(dyn.at("children_listed") == 3);
  CHECK(dyn.at("children").as_array().size() == 3);
  CHECK(str(dyn.at("children").as_array()[0].at("name")).rfind("topic:", 0) == 0);

  // The order of the fields, which the serialized tree keeps: a child supervisor's own fields,
  // then its parent's bookkeeping that it lacks ("restart", "id").
  CHECK(keys(snap) ==
        "name,kind,strategy,state,restarts,last_exit_reason,max_restarts,within_ms,mailbox_size,"
        "children");
  CHECK(keys(pubsub) == "name,kind,restart,state,restarts,last_exit_reason,id");
  CHECK(keys(inner) ==
        "name,kind,strategy,state,restarts,last_exit_reason,max_restarts,within_ms,mailbox_size,"
        "children,restart,id");

  // rest_for_one: a pubsub crash restarts everything after it; the snapshot shows it.
  CHECK_FALSE(sv::inject_crash(sys, root, "pubsub"));
  REQUIRE(eventually([&] { return events->incarnations("x") == 2; }));
  REQUIRE(eventually([&] {
    auto now = snapshot(root);
    return child_node(now, "channels").at("restarts") == 1 &&
           child_node(now, "channels").at("state") == "running";
  }));
  snap = snapshot(root);
  CHECK(child_node(snap, "pubsub").at("restarts") == 1);
  CHECK(str(child_node(snap, "pubsub").at("last_exit_reason")).find("injected crash") !=
        std::string::npos);
  CHECK(child_node(snap, "inner").at("restarts") == 1);
  CHECK(str(child_node(snap, "inner").at("last_exit_reason")).find("user_shutdown") !=
        std::string::npos);
  CHECK(child_node(snap, "channels").at("active") == 0);  // a fresh dynamic supervisor
  CHECK(sv::stop_supervisor(sys, root, 5s));
}
