#include "remote/proof.hpp"

#include <troupe/remote/shared_secret.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

// The challenge and response's MAC: a known answer (computed apart from libsodium, with
// Python's hmac and hashlib), and every way an answer must not check out.

namespace {

using troupe::remote::shared_secret;
using troupe::remote::detail::auth_nonce_size;
using troupe::remote::detail::proof;

const shared_secret secret("correct horse battery staple");
const std::vector<std::byte> alice_nonce(32, std::byte{0x11});
const std::vector<std::byte> bob_nonce(32, std::byte{0x22});

std::string hex(const std::vector<std::byte>& bytes) {
    std::string out;
    for (std::byte b : bytes) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", std::to_integer<unsigned>(b));
        out += two;
    }
    return out;
}

TEST(proof, the_transcript_names_the_answerer_first_then_both_nonces) {
    EXPECT_EQ(hex(proof::transcript("alice", "bob", bob_nonce, alice_nonce)),
              // "troupe/remote auth v1: answer to a challenge" and its NUL
              "74726f7570652f72656d6f746520617574682076313a20616e7377657220746f2061206368616c6c656e676500"
              "00000005616c696365"                                                  // 5, "alice": the answerer
              "00000003626f62"                                                      // 3, "bob": the challenger
              "2222222222222222222222222222222222222222222222222222222222222222"    // bob's nonce
              "1111111111111111111111111111111111111111111111111111111111111111");  // alice's
}

TEST(proof, the_answer_is_hmac_sha256_under_the_sha256_of_the_secret) {
    const proof alice(secret, alice_nonce);
    const proof bob(secret, bob_nonce);
    const auto answer = alice.answer("alice", "bob", bob.nonce());
    EXPECT_EQ(hex(answer), "64d46fa32f48e9b2cdf15df77fc21dfe855c326a86ddc1862e136a095665c3ee");
    EXPECT_TRUE(bob.check("bob", "alice", alice.nonce(), answer));
    EXPECT_EQ(hex(bob.answer("bob", "alice", alice.nonce())),
              "3d5441578bdb85577ab19618030621000a7f42b7cc36fbc3d4881bccee2c8a31");
    EXPECT_TRUE(alice.check("alice", "bob", bob.nonce(), bob.answer("bob", "alice", alice.nonce())));
}

TEST(proof, an_answer_does_not_check_out_anywhere_else) {
    const proof alice(secret, alice_nonce);
    const proof bob(secret, bob_nonce);
    const auto answer = alice.answer("alice", "bob", bob.nonce());
    // Reflected: alice's own answer, handed back to her.
    EXPECT_FALSE(alice.check("alice", "bob", bob.nonce(), answer));
    // Other names, in either order.
    EXPECT_FALSE(bob.check("bob", "mallory", alice.nonce(), answer));
    EXPECT_FALSE(bob.check("alice", "bob", alice.nonce(), answer));
    // Another challenge: a replay on a later connection.
    const proof bob_later(secret);
    EXPECT_FALSE(bob_later.check("bob", "alice", alice.nonce(), answer));
    // Another secret.
    const proof other(shared_secret("wrong horse battery staple"), bob_nonce);
    EXPECT_FALSE(other.check("bob", "alice", alice.nonce(), answer));
    // Cut short, or a bit off.
    auto cut = answer;
    cut.pop_back();
    EXPECT_FALSE(bob.check("bob", "alice", alice.nonce(), cut));
    auto flipped = answer;
    flipped[7] ^= std::byte{1};
    EXPECT_FALSE(bob.check("bob", "alice", alice.nonce(), flipped));
    EXPECT_FALSE(bob.check("bob", "alice", alice.nonce(), {}));
}

TEST(proof, nonces_are_fresh_and_a_reflected_or_short_challenge_is_refused) {
    const proof one(secret);
    const proof two(secret);
    EXPECT_EQ(one.nonce().size(), auth_nonce_size);
    EXPECT_NE(one.nonce(), two.nonce());
    EXPECT_EQ(one.refusal(two.nonce()), std::nullopt);
    EXPECT_EQ(one.refusal(one.nonce()), "it sent this side's own challenge back");
    EXPECT_EQ(one.refusal(std::vector<std::byte>(31)), "its challenge has 31 bytes, not 32");
}

}  // namespace
