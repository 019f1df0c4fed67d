#pragma once
// Cluster admission (docs/cluster.md §2): a node proves it holds the cluster secret without
// sending it. Each side picks a fresh random nonce; each answers with an HMAC-SHA256, keyed by the
// secret, over its role, its node name and both nonces, so no answer can be replayed on another
// connection or reflected back to its sender. Answers are compared in constant time.
#include <string>
#include <string_view>

namespace beryl::cluster {

// Which side of the handshake an answer comes from: the node that dialled, or the one dialled.
enum class role { dialer, listener };

// 32 random bytes from the system's CSPRNG, as 64 hex digits.
std::string new_nonce();

// The answer `node`, on side `side`, gives to prove it knows `secret`: hex HMAC-SHA256 over the
// role, the node name, its own nonce and the other side's nonce.
std::string proof(std::string_view secret, role side, std::string_view node,
                  std::string_view own_nonce, std::string_view peer_nonce);

// Whether `given` equals `expected`, in time that does not depend on where they differ.
bool proofs_match(std::string_view expected, std::string_view given);

}  // namespace beryl::cluster
