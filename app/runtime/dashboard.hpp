#pragma once
// The operator's dashboard (docs/architecture.md §7): an actor under the tree samples the load
// every second and keeps the last crashes and restarts, and pushes both over the Phoenix channel
// "beryl:dashboard" to the page at /dashboard (dashboard_page.hpp). Nothing is polled: a page
// that joins gets the history in its join reply, then every sample, tree and event as broadcasts.
#include "actors/presence.hpp"
#include "actors/pubsub.hpp"
#include "actors/router.hpp"
#include "supervision/child_spec.hpp"

#include <memory>

namespace beryl::app {

inline constexpr const char* dashboard_topic = "beryl:dashboard";

// How many samples (one a second) and crash/restart events the dashboard keeps for a page that
// joins.
inline constexpr std::size_t dashboard_samples_kept = 120;
inline constexpr std::size_t dashboard_events_kept = 200;

// The tree's "dashboard" child: a child of the root supervisor, whose tree it samples. `pubsub`
// and `presence` are read when it (re)starts, after the children that set them.
supervision::child_spec dashboard_spec(std::shared_ptr<const pubsub_ref> pubsub,
                                       std::shared_ptr<const presence_ref> presence,
                                       bool crash_injection);

// The app's routes with the dashboard's channel in front, for "beryl:dashboard" only.
std::shared_ptr<const router> with_dashboard_channel(const std::shared_ptr<const router>& app);

}  // namespace beryl::app
