#include "remote/session.hpp"

#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace wire = troupe::wire;
namespace msg = troupe::wire::msg;
using troupe::remote::detail::handshake_done;
using troupe::remote::detail::session;
using troupe::remote::detail::session_closed;
using troupe::remote::detail::session_event;

namespace {

msg::hello hello_of(std::string name, std::uint32_t min_version = 1, std::uint32_t version = 1) {
    msg::hello h;
    h.version = version;
    h.min_version = min_version;
    h.name = std::move(name);
    h.id = "7";
    h.pid = 4121;
    return h;
}

/// A stream of frames, built up message by message.
class stream {
public:
    template <class M>
    stream& add(std::uint64_t dialog, const M& m) {
        wire::write_message(frames_, dialog, m);
        return *this;
    }
    stream& raw_payload(const std::vector<std::byte>& payload) {
        frames_.write(payload);
        return *this;
    }
    stream& raw_bytes(const std::vector<std::uint8_t>& bytes) {
        extra_.insert(extra_.end(), reinterpret_cast<const std::byte*>(bytes.data()),
                      reinterpret_cast<const std::byte*>(bytes.data()) + bytes.size());
        return *this;
    }
    std::vector<std::byte> bytes() const {
        std::vector<std::byte> out(frames_.pending().begin(), frames_.pending().end());
        out.insert(out.end(), extra_.begin(), extra_.end());
        return out;
    }

private:
    wire::frame_writer frames_{wire::max_frame_limit};
    std::vector<std::byte> extra_;
};

/// An event in words, so that a failure shows what happened.
std::string describe(const session_event& e) {
    if (const auto* h = std::get_if<handshake_done>(&e)) {
        return "open v" + std::to_string(h->version) + " " + h->peer.name;
    }
    if (const auto* c = std::get_if<session_closed>(&e)) {
        return "closed: " + c->reason;
    }
    const auto& m = std::get<wire::message>(e);
    return "message " + std::to_string(m.dialog) + " kind " + std::to_string(m.body.index());
}

std::vector<std::string> drain(session& s) {
    std::vector<std::string> out;
    while (auto e = s.next()) {
        out.push_back(describe(*e));
    }
    return out;
}

std::vector<std::string> run(const std::vector<std::byte>& bytes, msg::hello mine = hello_of("here")) {
    session s(std::move(mine));
    s.feed(bytes);
    return drain(s);
}

using lines = std::vector<std::string>;

TEST(session, the_peers_hello_opens_it_and_messages_follow) {
    session s(hello_of("here"));
    EXPECT_FALSE(s.is_open());
    s.feed(
        stream().add(0, hello_of("there")).add(5, msg::start{"f", {}, 2}).add(5, msg::yield{{std::byte{1}}}).bytes());
    auto first = s.next();
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(std::holds_alternative<handshake_done>(*first));
    EXPECT_EQ(std::get<handshake_done>(*first).peer, hello_of("there"));
    EXPECT_EQ(std::get<handshake_done>(*first).version, 1u);
    EXPECT_TRUE(s.is_open());
    EXPECT_EQ(s.peer(), hello_of("there"));
    EXPECT_EQ(s.version(), 1u);
    auto second = s.next();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(std::get<wire::message>(*second), (wire::message{5, msg::start{"f", {}, 2}}));
    auto third = s.next();
    ASSERT_TRUE(third.has_value());
    EXPECT_EQ(std::get<wire::message>(*third), (wire::message{5, msg::yield{{std::byte{1}}}}));
    EXPECT_FALSE(s.next().has_value());
    EXPECT_EQ(s.frames(), 3u);
}

TEST(session, negotiates_the_newest_common_version) {
    session s(hello_of("here", 1, 3));
    s.feed(stream().add(0, hello_of("there", 2, 5)).bytes());
    EXPECT_EQ(drain(s), lines{"open v3 there"});
    EXPECT_EQ(s.version(), 3u);
}

TEST(session, versions_that_do_not_meet_close_it) {
    EXPECT_EQ(run(stream().add(0, hello_of("there", 2, 3)).bytes()),
              lines{"closed: no common protocol version (here 1..1, peer 2..3)"});
}

TEST(session, a_message_before_the_hello_closes_it) {
    EXPECT_EQ(run(stream().add(5, msg::start{"f", {}, 0}).add(0, hello_of("there")).bytes()),
              lines{"closed: expected the peer's hello on dialog 0 first, got start on dialog 5"});
    EXPECT_EQ(run(stream().add(3, hello_of("there")).bytes()),
              lines{"closed: expected the peer's hello on dialog 0 first, got hello on dialog 3"});
    // Even an unknown kind: before the hello, the peer's version is not known.
    EXPECT_EQ(run(stream().raw_payload({std::byte{0x93}, std::byte{0x4d}, std::byte{0x00}, std::byte{0x90}}).bytes()),
              lines{"closed: expected the peer's hello on dialog 0 first, got unknown kind 77 on dialog 0"});
}

TEST(session, a_second_hello_closes_it) {
    EXPECT_EQ(run(stream().add(0, hello_of("there")).add(0, hello_of("again")).add(5, msg::stop{}).bytes()),
              (lines{"open v1 there", "closed: a second hello from the peer, on dialog 0"}));
    EXPECT_EQ(run(stream().add(0, hello_of("there")).add(9, hello_of("again")).bytes()),
              (lines{"open v1 there", "closed: a second hello from the peer, on dialog 9"}));
}

TEST(session, another_kind_on_dialog_0_closes_it) {
    EXPECT_EQ(
        run(stream().add(0, hello_of("there")).add(0, msg::credit{4}).bytes()),
        (lines{"open v1 there", "closed: credit on dialog 0, which carries only the handshake, spawn and cancel"}));
}

TEST(session, a_frame_over_the_limit_closes_it) {
    session s(hello_of("here"), 64);
    s.feed(stream().add(0, hello_of("there")).raw_bytes({0xff, 0xff, 0xff, 0xff, 0x90}).bytes());
    EXPECT_EQ(drain(s),
              (lines{"open v1 there", "closed: a frame of 4294967295 bytes is larger than the maximum of 64"}));
    EXPECT_TRUE(s.closed());
}

TEST(session, a_malformed_frame_closes_it_with_the_decoders_words) {
    EXPECT_EQ(run(stream().add(0, hello_of("there")).raw_payload({std::byte{0x93}, std::byte{0x02}}).bytes()),
              (lines{"open v1 there",
                     "closed: message: an array of 3 elements claims more than the 1 byte that remain (at byte 0)"}));
    EXPECT_EQ(run(stream().raw_payload({std::byte{0xc1}}).bytes()),
              lines{"closed: message: 0xc1 is not a msgpack value (at byte 0)"});
}

TEST(session, unknown_kinds_are_ignored_and_counted) {
    const std::vector<std::byte> unknown{std::byte{0x93}, std::byte{0x4d}, std::byte{0x05}, std::byte{0x81},
                                         std::byte{0xa1}, std::byte{0x61}, std::byte{0x01}};  // [77, 5, {"a": 1}]
    const std::vector<std::byte> on_dialog_0{std::byte{0x93}, std::byte{0x4e}, std::byte{0x00}, std::byte{0x90}};
    session s(hello_of("here"));
    s.feed(stream()
               .add(0, hello_of("there"))
               .raw_payload(unknown)
               .raw_payload(on_dialog_0)
               .add(5, msg::stop{})
               .raw_payload(unknown)
               .bytes());
    EXPECT_EQ(drain(s), (lines{"open v1 there", "message 5 kind 5"}));
    EXPECT_EQ(s.ignored(), 3u);
    EXPECT_EQ(s.frames(), 5u);
    EXPECT_TRUE(s.is_open());
}

TEST(session, nothing_comes_after_closed) {
    session s(hello_of("here"));
    s.feed(stream().add(0, hello_of("there", 5, 5)).bytes());
    EXPECT_EQ(drain(s), lines{"closed: no common protocol version (here 1..1, peer 5..5)"});
    s.feed(stream().add(0, hello_of("there")).add(5, msg::stop{}).bytes());
    EXPECT_EQ(drain(s), lines{});
    const auto room = s.prepare(16);
    EXPECT_EQ(room.size(), 16u);
    s.commit(16);
    EXPECT_EQ(drain(s), lines{});
    EXPECT_TRUE(s.closed());
    EXPECT_FALSE(s.is_open());
}

TEST(session, prepare_and_commit_read_in_place) {
    const auto bytes = stream().add(0, hello_of("there")).add(1, msg::cancel{"why"}).bytes();
    session s(hello_of("here"));
    const auto room = s.prepare(bytes.size() + 100);
    std::copy(bytes.begin(), bytes.end(), room.begin());
    s.commit(bytes.size());
    EXPECT_EQ(drain(s), (lines{"open v1 there", "message 1 kind 7"}));
}

msg::hello demanding(std::string name) {
    auto h = hello_of(std::move(name));
    h.auth = true;
    return h;
}

const std::vector<std::byte> nonce(32, std::byte{0x5c});
const std::vector<std::byte> mac(32, std::byte{0xa3});

/// Drains `s`, calling authenticated() after each auth_response (as a connection that found
/// the answer right does).
std::vector<std::string> drain_accepting(session& s) {
    std::vector<std::string> out;
    while (auto e = s.next()) {
        out.push_back(describe(*e));
        const auto* m = std::get_if<wire::message>(&*e);
        if (m != nullptr && std::holds_alternative<msg::auth_response>(m->body)) {
            s.authenticated();
        }
    }
    return out;
}

TEST(session, a_hello_that_demands_authentication_passes_the_challenge_then_the_response) {
    session s(hello_of("here"));
    s.feed(stream()
               .add(0, demanding("there"))
               .add(0, msg::auth_challenge{nonce})
               .add(0, msg::auth_response{mac})
               .add(5, msg::stop{})
               .add(0, msg::spawn{})
               .bytes());
    auto first = s.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_TRUE(std::get<handshake_done>(*first).authenticate);
    EXPECT_TRUE(s.authenticating());
    EXPECT_FALSE(s.is_open());
    EXPECT_EQ(std::get<wire::message>(*s.next()), (wire::message{0, msg::auth_challenge{nonce}}));
    s.authenticated();  // too early: nothing happens
    EXPECT_TRUE(s.authenticating());
    EXPECT_EQ(std::get<wire::message>(*s.next()), (wire::message{0, msg::auth_response{mac}}));
    s.authenticated();
    EXPECT_TRUE(s.is_open());
    EXPECT_FALSE(s.authenticating());
    EXPECT_EQ(drain(s), (lines{"message 5 kind 5", "message 0 kind 11"}));
}

TEST(session, our_own_demand_is_enough) {
    auto mine = hello_of("here");
    mine.auth = true;
    session s(mine);
    s.feed(stream().add(0, hello_of("there")).add(1, msg::stop{}).bytes());
    EXPECT_EQ(drain(s), (lines{"open v1 there", "closed: stop on dialog 1 before the authentication was done"}));
}

TEST(session, during_authentication_anything_else_closes_it) {
    const auto after = [](const stream& rest) {
        auto bytes = stream().add(0, demanding("there")).bytes();
        const auto more = rest.bytes();
        bytes.insert(bytes.end(), more.begin(), more.end());
        session s(hello_of("here"));
        s.feed(bytes);
        return drain_accepting(s);
    };
    EXPECT_EQ(after(stream().add(1, msg::start{"f", {}, 0})),
              (lines{"open v1 there", "closed: start on dialog 1 before the authentication was done"}));
    EXPECT_EQ(after(stream().add(0, msg::spawn{})),
              (lines{"open v1 there", "closed: spawn on dialog 0 before the authentication was done"}));
    EXPECT_EQ(after(stream().add(3, msg::auth_challenge{nonce})),
              (lines{"open v1 there", "closed: auth_challenge on dialog 3 before the authentication was done"}));
    EXPECT_EQ(after(stream().raw_payload({std::byte{0x93}, std::byte{0x4d}, std::byte{0x00}, std::byte{0x90}})),
              (lines{"open v1 there", "closed: unknown kind 77 on dialog 0 before the authentication was done"}));
    EXPECT_EQ(after(stream().add(0, msg::auth_response{mac})),
              (lines{"open v1 there", "closed: an auth_response before the peer's auth_challenge"}));
    EXPECT_EQ(after(stream().add(0, msg::auth_challenge{nonce}).add(0, msg::auth_challenge{nonce})),
              (lines{"open v1 there", "message 0 kind 12", "closed: a second auth_challenge from the peer"}));
    EXPECT_EQ(after(stream().add(0, msg::auth_challenge{nonce}).add(0, hello_of("again"))),
              (lines{"open v1 there", "message 0 kind 12", "closed: a second hello from the peer, on dialog 0"}));
    EXPECT_EQ(after(stream().add(0, msg::auth_challenge{nonce}).raw_payload({std::byte{0x93}, std::byte{0x0d}})),
              (lines{"open v1 there", "message 0 kind 12",
                     "closed: message: an array of 3 elements claims more than the 1 byte that remain (at byte 0)"}));
    // Once open, the authentication's messages close it like any stranger on dialog 0.
    EXPECT_EQ(after(stream()
                        .add(0, msg::auth_challenge{nonce})
                        .add(0, msg::auth_response{mac})
                        .add(0, msg::auth_response{mac})),
              (lines{"open v1 there", "message 0 kind 12", "message 0 kind 13",
                     "closed: auth_response on dialog 0 outside the authentication (which comes right after the "
                     "hellos, if at all)"}));
}

TEST(session, nothing_passes_while_the_answer_waits_to_be_checked) {
    session s(hello_of("here"));
    s.feed(stream()
               .add(0, demanding("there"))
               .add(0, msg::auth_challenge{nonce})
               .add(0, msg::auth_response{mac})
               .add(5, msg::stop{})
               .bytes());
    EXPECT_EQ(drain(s), (lines{"open v1 there", "message 0 kind 12", "message 0 kind 13",
                               "closed: stop on dialog 5 before its auth_response was checked"}));
}

TEST(session, without_a_demand_the_authentications_messages_close_it) {
    EXPECT_EQ(run(stream().add(0, hello_of("there")).add(0, msg::auth_challenge{nonce}).bytes()),
              (lines{"open v1 there",
                     "closed: auth_challenge on dialog 0 outside the authentication (which comes right after the "
                     "hellos, if at all)"}));
}

/// One stream with every kind of event, ending in a violation.
std::vector<std::byte> every_event() {
    return stream()
        .add(0, hello_of("there"))
        .add(1, msg::start{"numbers", wire::encode(std::tuple(1, 2)), 16})
        .raw_payload({std::byte{0x93}, std::byte{0x4d}, std::byte{0x01}, std::byte{0x90}})
        .add(1, msg::yield{{std::byte{9}}})
        .add(1, msg::returned{})
        .add(0, hello_of("again"))
        .add(2, msg::stop{})
        .bytes();
}

TEST(session, bytes_split_at_any_position_give_the_same_events) {
    const auto bytes = every_event();
    const lines whole = run(bytes);
    ASSERT_EQ(whole, (lines{"open v1 there", "message 1 kind 2", "message 1 kind 4", "message 1 kind 6",
                            "closed: a second hello from the peer, on dialog 0"}));
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        session s(hello_of("here"));
        lines got;
        s.feed(std::span(bytes).first(cut));
        for (auto& l : drain(s)) {
            got.push_back(std::move(l));
        }
        s.feed(std::span(bytes).subspan(cut));
        for (auto& l : drain(s)) {
            got.push_back(std::move(l));
        }
        ASSERT_EQ(got, whole) << "split at byte " << cut;
    }
    session s(hello_of("here"));
    lines got;
    for (std::byte b : bytes) {
        s.feed(std::span(&b, 1));
        for (auto& l : drain(s)) {
            got.push_back(std::move(l));
        }
    }
    EXPECT_EQ(got, whole) << "byte by byte";
}

}  // namespace
