#pragma once
// proof: one side's part in the mutual challenge and response that authenticates a connection
// (docs/design/wire.md, "Authentication"). Pure: no socket, no clock; the connection drives it.

#include <troupe/remote/shared_secret.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::remote::detail {

/// The size of an auth_challenge's nonce.
inline constexpr std::size_t auth_nonce_size = 32;
/// The size of an auth_response's MAC (HMAC-SHA256).
inline constexpr std::size_t auth_mac_size = 32;

/// This side's key and nonce for one connection: it answers the peer's challenge and checks the
/// peer's answer to its own. The key (SHA-256 of the secret) is wiped when it goes.
class proof {
public:
    /// A fresh random nonce.
    explicit proof(const shared_secret& secret);
    /// A given nonce (known-answer tests).
    proof(const shared_secret& secret, std::span<const std::byte> nonce);
    ~proof();
    proof(const proof&) = delete;
    proof& operator=(const proof&) = delete;

    /// This side's challenge.
    const std::vector<std::byte>& nonce() const noexcept { return nonce_; }
    /// Why the peer's challenge must not be answered (a nonce of the wrong size, or this side's
    /// own nonce reflected back), or nullopt.
    std::optional<std::string> refusal(std::span<const std::byte> peer_nonce) const;
    /// The answer to the peer's challenge: HMAC-SHA256 under the key of
    /// transcript(mine, peer, peer_nonce, nonce()).
    std::vector<std::byte> answer(std::string_view mine, std::string_view peer,
                                  std::span<const std::byte> peer_nonce) const;
    /// True if `mac` is the peer's answer to this side's challenge, i.e. the MAC of
    /// transcript(peer, mine, nonce(), peer_nonce); compared in constant time.
    bool check(std::string_view mine, std::string_view peer, std::span<const std::byte> peer_nonce,
               std::span<const std::byte> mac) const;

    /// What an answer's MAC covers: the context string (with its NUL), the answering side's hello
    /// id and then the challenging side's (each after its length, 4 bytes big-endian), the
    /// challenger's nonce, the answerer's nonce.
    static std::vector<std::byte> transcript(std::string_view answerer, std::string_view challenger,
                                             std::span<const std::byte> challenger_nonce,
                                             std::span<const std::byte> answerer_nonce);

private:
    std::array<unsigned char, 32> key_{};
    std::vector<std::byte> nonce_;
};

}  // namespace troupe::remote::detail
