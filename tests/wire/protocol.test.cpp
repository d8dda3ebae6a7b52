#include <troupe/wire/protocol.hpp>

#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/frame_writer.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "wire/wire_support.hpp"

using wire_test::bytes;
using wire_test::hex;
namespace wire = troupe::wire;
namespace msg = troupe::wire::msg;

namespace {

/// One message of every kind, each on its own dialog.
std::vector<wire::message> every_message() {
    return {
        {0, msg::hello{1, 1, "worker-3", "7f3a", 4242, 1u << 20}},
        {1, msg::start{"add", wire::encode(std::tuple(1, 2)), 16}},
        {1, msg::started{wire::encode(std::string("first")), 8}},
        {1, msg::yield{wire::encode(3)}},
        {1, msg::stop{}},
        {1, msg::returned{wire::encode(3)}},
        {2, msg::cancel{"deadline"}},
        {2, msg::cancel_ack{}},
        {3, msg::error{"std::invalid_argument", "nobody to greet", "#0 greet at greeter.cpp:12"}},
        {std::uint64_t{1} << 63, msg::credit{64}},
        {0, msg::spawn{"donny", {"math"}, {{"answer", wire::encode(42)}}, "debug"}},
        {0, msg::auth_challenge{std::vector<std::byte>(32, std::byte{0xa5})}},
        {0, msg::auth_response{std::vector<std::byte>(32, std::byte{0x5a})}},
        {5, msg::spawn_actor{"7counter", "tally", wire::encode(std::tuple(10)), 64, 3, true}},
        {5, msg::post{"3add", wire::encode(2), 0}},
        {5, msg::post{"3get", {}, 7}},
        {5, msg::stop_actor{true}},
        {5, msg::exit_signal{12, "worker#12", 2, "std::runtime_error", "boom"}},
    };
}

std::vector<std::byte> encode(const wire::message& m) {
    std::vector<std::byte> out;
    std::visit(
        [&](const auto& body) {
            if constexpr (wire::protocol_message<std::decay_t<decltype(body)>>) {
                wire::encode_message(m.dialog, body, out);
            }
        },
        m.body);
    return out;
}

std::string decode_failure(const std::vector<std::byte>& payload) {
    try {
        (void)wire::decode_message(payload);
    } catch (const wire::decode_error& e) {
        return e.what();
    }
    return "no error";
}

TEST(protocol, every_message_kind_round_trips) {
    for (const wire::message& m : every_message()) {
        const wire::message back = wire::decode_message(encode(m));
        EXPECT_EQ(back, m) << "kind " << m.body.index();
        EXPECT_EQ(back.kind(), static_cast<wire::message_kind>(m.body.index()));
    }
}

TEST(protocol, a_payload_is_kind_dialog_body) {
    EXPECT_EQ(hex(encode({7, msg::credit{3}})), "93 0a 07 91 03");
    EXPECT_EQ(hex(encode({7, msg::stop{}})), "93 05 07 90");
    EXPECT_EQ(hex(encode({0, msg::hello{1, 1, "a", "b", 5, 16}})), "93 01 00 97 01 01 a1 61 a1 62 05 10 c2");
    EXPECT_EQ(hex(encode({0, msg::hello{1, 1, "a", "b", 5, 16, true}})), "93 01 00 97 01 01 a1 61 a1 62 05 10 c3");
    EXPECT_EQ(hex(encode({0, msg::auth_challenge{{std::byte{1}, std::byte{2}}}})), "93 0c 00 91 c4 02 01 02");
    EXPECT_EQ(hex(encode({0, msg::auth_response{{std::byte{3}}}})), "93 0d 00 91 c4 01 03");
    EXPECT_EQ(static_cast<int>(wire::message_kind::hello), 1);
    EXPECT_EQ(static_cast<int>(wire::message_kind::credit), 10);
    EXPECT_EQ(static_cast<int>(wire::message_kind::spawn), 11);
    EXPECT_EQ(static_cast<int>(wire::message_kind::auth_challenge), 12);
    EXPECT_EQ(static_cast<int>(wire::message_kind::auth_response), 13);
    EXPECT_EQ(hex(encode({5, msg::stop_actor{true}})), "93 10 05 91 c3");
    EXPECT_EQ(static_cast<int>(wire::message_kind::spawn_actor), 14);
    EXPECT_EQ(static_cast<int>(wire::message_kind::post), 15);
    EXPECT_EQ(static_cast<int>(wire::message_kind::exit_signal), 17);
}

TEST(protocol, messages_travel_in_frames) {
    wire::frame_writer out;
    for (const wire::message& m : every_message()) {
        std::visit(
            [&](const auto& body) {
                if constexpr (wire::protocol_message<std::decay_t<decltype(body)>>) {
                    wire::write_message(out, m.dialog, body);
                }
            },
            m.body);
    }
    EXPECT_EQ(out.frames(), every_message().size());
    wire::frame_reader in;
    in.feed(out.pending());
    std::vector<wire::message> got;
    while (auto f = in.next()) {
        got.push_back(wire::decode_message(*f));
    }
    EXPECT_EQ(got, every_message());
}

TEST(protocol, an_unknown_kind_is_told_apart_from_a_malformed_payload) {
    // Kind 77 from a newer peer, with a body this version cannot read: ignorable.
    const wire::message m = wire::decode_message(bytes({0x93, 0x4d, 0x05, 0x82, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0x90}));
    EXPECT_EQ(m.body.index(), 0u);
    EXPECT_EQ(std::get<msg::unknown>(m.body).kind, 77u);
    EXPECT_EQ(m.dialog, 5u);
    EXPECT_EQ(m.kind(), std::nullopt);
    // An unknown kind whose body is not msgpack is still malformed.
    EXPECT_EQ(decode_failure(bytes({0x93, 0x4d, 0x05, 0xc1})), "message.body: 0xc1 is not a msgpack value (at byte 3)");
}

TEST(protocol, malformed_payloads_are_refused_with_what_and_where) {
    EXPECT_EQ(decode_failure({}), "message: truncated: the input ends where a value was expected (at byte 0)");
    EXPECT_EQ(decode_failure(bytes({0x92, 0x01, 0x00})),
              "message: expected [kind, dialog, body], got an array of 2 (at byte 0)");
    EXPECT_EQ(decode_failure(bytes({0x93, 0xff, 0x00, 0x90})),
              "message.kind: integer -1 out of range for uint64 (0..18446744073709551615) (at byte 1)");
    EXPECT_EQ(decode_failure(bytes({0x93, 0x02, 0xa1, 0x61, 0x90})),
              "message.dialog: expected an integer, got a string (at byte 2)");
    EXPECT_EQ(decode_failure(bytes({0x93, 0x02, 0x01, 0x91, 0x05})),
              "message.start.target: expected a string, got an integer (at byte 4)");
    EXPECT_EQ(decode_failure(bytes({0x93, 0x0a, 0x01, 0x91, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0})),
              "message.credit.items: integer 4294967296 out of range for uint32 (0..4294967295) (at byte 4)");
    EXPECT_EQ(decode_failure(bytes({0x93, 0x05, 0x01, 0x90, 0x00})),
              "message: 1 byte of trailing garbage after the value (at byte 4)");
    EXPECT_EQ(decode_failure(bytes({0x93, 0x04, 0x01, 0x91, 0xc6, 0xff, 0xff, 0xff, 0xff})),
              "message.yield.value: truncated: a binary needs 4294967295 bytes, 0 remain (at byte 4)");
}

TEST(protocol, later_additions_are_tolerated) {
    // A newer peer's credit with one more field, and an envelope with one more element.
    const wire::message m = wire::decode_message(bytes({0x94, 0x0a, 0x09, 0x92, 0x05, 0xa1, 0x78, 0xc0}));
    EXPECT_EQ(m, (wire::message{9, msg::credit{5}}));
    // An older peer's hello without max_frame: the default stands.
    const wire::message h = wire::decode_message(bytes({0x93, 0x01, 0x00, 0x92, 0x02, 0x01}));
    const auto& hello = std::get<msg::hello>(h.body);
    EXPECT_EQ(hello.version, 2u);
    EXPECT_EQ(hello.min_version, 1u);
    EXPECT_EQ(hello.max_frame, wire::default_max_frame);
    // Nor auth: it demands nothing.
    EXPECT_FALSE(hello.auth);
}

TEST(protocol, versions_are_negotiated_from_the_hellos) {
    const msg::hello v1{.version = 1, .min_version = 1};
    const msg::hello v1_to_3{.version = 3, .min_version = 1};
    const msg::hello v2_to_4{.version = 4, .min_version = 2};
    const msg::hello v4{.version = 4, .min_version = 4};
    EXPECT_EQ(wire::negotiate(v1, v1), 1u);
    EXPECT_EQ(wire::negotiate(v1_to_3, v2_to_4), 3u);
    EXPECT_EQ(wire::negotiate(v2_to_4, v1_to_3), 3u);
    EXPECT_EQ(wire::negotiate(v1, v2_to_4), std::nullopt);
    EXPECT_EQ(wire::negotiate(v1_to_3, v4), std::nullopt);
    EXPECT_EQ(msg::hello{}.version, wire::protocol_version);
}

}  // namespace
