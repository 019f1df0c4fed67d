#pragma once
// Who is in the cluster, as one node sees it (docs/cluster.md §3). Pure: the caller passes the
// time in, dials and sends itself, and reports back what happened.
//
//   * Addresses to dial come from --peers and from what admitted peers advertise (gossip), so
//     the nodes form a full mesh whichever seeds each was given. An address is dialled until a
//     peer is admitted through it, again after its connection is lost, with a delay doubling
//     from retry_min to retry_max between failed attempts: forever, as Erlang's nodes retry.
//   * A peer is up from its admission (the handshake, either direction) and while its heartbeats
//     keep coming; down when its connection is lost, or after down_after without a heartbeat
//     (a hung process keeps its connection open). A heartbeat brings it back up.
//   * A node is known by its name; a new incarnation under the same name (a restart) replaces
//     the old one.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace beryl::cluster {

struct membership_settings {
  std::chrono::milliseconds heartbeat_interval{250};
  std::chrono::milliseconds down_after{3000};
  std::chrono::milliseconds retry_min{100};
  std::chrono::milliseconds retry_max{5000};
  // An address unreachable this long is worth a warning, repeated every warn_every.
  std::chrono::milliseconds warn_after{5000};
  std::chrono::milliseconds warn_every{60'000};
};

// A node as it introduces itself in the handshake: its name, which start of it this is, and the
// address it listens on for other nodes.
struct node_identity {
  std::string node;
  std::uint64_t incarnation = 0;
  std::string address;
};

enum class peer_status { up, down };

struct peer_view {
  std::string node;
  std::string address;
  peer_status status = peer_status::down;
  std::chrono::milliseconds since_heartbeat{0};
};

class membership {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  membership(node_identity self, membership_settings settings);

  const node_identity& self() const { return self_; }
  const membership_settings& settings() const { return settings_; }

  // An address to dial (a seed, or one a peer advertised); our own is ignored.
  void learn_address(const std::string& address, time_point now);
  // The addresses whose turn to be dialled has come; each stays "dialling" until dial_failed or
  // an admission through it.
  std::vector<std::string> dials_due(time_point now);
  // A dial (connection or handshake) failed. True when the log should warn that the address
  // stays unreachable.
  bool dial_failed(const std::string& address, time_point now);

  struct admission {
    bool came_up = false;                   // it was unknown, down, or another incarnation
    std::optional<std::uint64_t> replaced;  // the incarnation this one replaces
  };
  // A peer passed the handshake; `dialled` is the address we dialled to reach it, if we did.
  admission admit(const node_identity& peer, const std::string& dialled, time_point now);
  // A heartbeat of `node`'s `incarnation`; true when it brings the peer back up. Heartbeats of
  // an incarnation not admitted are ignored (false).
  bool heartbeat(const std::string& node, std::uint64_t incarnation, time_point now);
  // Its connection is gone: down at once, and its address dialled again.
  void connection_lost(const std::string& node, std::uint64_t incarnation, time_point now);
  // Up peers silent for down_after: now down, returned by name.
  std::vector<std::string> silent_peers_down(time_point now);

  bool is_up(const std::string& node, std::uint64_t incarnation) const;
  std::vector<peer_view> peers(time_point now) const;
  std::size_t up_count() const;
  // The addresses of the admitted peers, for heartbeats to advertise.
  std::vector<std::string> known_addresses() const;

 private:
  struct peer_entry {
    std::uint64_t incarnation = 0;
    std::string address;
    std::string dialled;  // the address we reached it through, when not the advertised one
    peer_status status = peer_status::up;
    bool connected = true;
    time_point last_heartbeat;
  };
  struct dial_state {
    time_point next_attempt;
    std::chrono::milliseconds delay{0};
    bool dialling = false;
    bool connected = false;  // a peer admitted through or advertising this address is connected
    std::optional<time_point> failing_since;
    std::optional<time_point> last_warning;
  };

  void mark_connected(const std::string& address, bool connected, time_point now);

  node_identity self_;
  membership_settings settings_;
  std::map<std::string, peer_entry> peers_;      // by node name
  std::map<std::string, dial_state> addresses_;  // by address
};

}  // namespace beryl::cluster
