// proof: libsodium's HMAC-SHA256 (crypto_auth_hmacsha256, whose verify compares in constant
// time) over a transcript that names both sides in the answerer's order, so that an answer is
// worth nothing in the other direction or on another connection.

#include "remote/proof.hpp"

#include <troupe/core/errors.hpp>

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace troupe::remote::detail {

namespace {

/// What every transcript starts with: the protocol, its version and what the MAC is for.
constexpr std::string_view context{"troupe/remote auth v1: answer to a challenge", 45};

static_assert(crypto_auth_hmacsha256_BYTES == auth_mac_size);
static_assert(crypto_auth_hmacsha256_KEYBYTES == 32 && crypto_hash_sha256_BYTES == 32);

void ensure_sodium() {
    // sodium_init is thread-safe and idempotent; -1 means no usable random source.
    static const int ready = sodium_init();
    if (ready < 0) {
        throw error("troupe::remote: libsodium cannot start (sodium_init failed)");
    }
}

void append_id(std::vector<std::byte>& out, std::string_view id) {
    const auto n = static_cast<std::uint32_t>(id.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::byte>((n >> shift) & 0xff));
    }
    const auto* first = reinterpret_cast<const std::byte*>(id.data());
    out.insert(out.end(), first, first + id.size());
}

const unsigned char* bytes_of(std::span<const std::byte> s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

proof::proof(const shared_secret& secret) : nonce_(auth_nonce_size) {
    ensure_sodium();
    randombytes_buf(nonce_.data(), nonce_.size());
    crypto_hash_sha256(key_.data(), bytes_of(secret.reveal()), secret.reveal().size());
}

proof::proof(const shared_secret& secret, std::span<const std::byte> nonce) : nonce_(nonce.begin(), nonce.end()) {
    ensure_sodium();
    crypto_hash_sha256(key_.data(), bytes_of(secret.reveal()), secret.reveal().size());
}

proof::~proof() {
    sodium_memzero(key_.data(), key_.size());
}

std::optional<std::string> proof::refusal(std::span<const std::byte> peer_nonce) const {
    if (peer_nonce.size() != auth_nonce_size) {
        return "its challenge has " + std::to_string(peer_nonce.size()) + " bytes, not " +
               std::to_string(auth_nonce_size);
    }
    if (std::equal(peer_nonce.begin(), peer_nonce.end(), nonce_.begin(), nonce_.end())) {
        return "it sent this side's own challenge back";
    }
    return std::nullopt;
}

std::vector<std::byte> proof::transcript(std::string_view answerer, std::string_view challenger,
                                         std::span<const std::byte> challenger_nonce,
                                         std::span<const std::byte> answerer_nonce) {
    std::vector<std::byte> out;
    out.reserve(context.size() + 8 + answerer.size() + challenger.size() + challenger_nonce.size() +
                answerer_nonce.size());
    const auto* c = reinterpret_cast<const std::byte*>(context.data());
    out.insert(out.end(), c, c + context.size());
    append_id(out, answerer);
    append_id(out, challenger);
    out.insert(out.end(), challenger_nonce.begin(), challenger_nonce.end());
    out.insert(out.end(), answerer_nonce.begin(), answerer_nonce.end());
    return out;
}

std::vector<std::byte> proof::answer(std::string_view mine, std::string_view peer,
                                     std::span<const std::byte> peer_nonce) const {
    const auto message = transcript(mine, peer, peer_nonce, nonce_);
    std::vector<std::byte> mac(crypto_auth_hmacsha256_BYTES);
    crypto_auth_hmacsha256(reinterpret_cast<unsigned char*>(mac.data()), bytes_of(message), message.size(),
                           key_.data());
    return mac;
}

bool proof::check(std::string_view mine, std::string_view peer, std::span<const std::byte> peer_nonce,
                  std::span<const std::byte> mac) const {
    if (mac.size() != crypto_auth_hmacsha256_BYTES || peer_nonce.size() != auth_nonce_size) {
        return false;
    }
    const auto message = transcript(peer, mine, nonce_, peer_nonce);
    return crypto_auth_hmacsha256_verify(bytes_of(mac), bytes_of(message), message.size(), key_.data()) == 0;
}

}  // namespace troupe::remote::detail
