#include <troupe/wire/frame_writer.hpp>

#include <troupe/wire/codec.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <stdexcept>
#include <vector>

#include "wire/wire_support.hpp"

using wire_test::bytes;
using wire_test::hex;

namespace {

TEST(frame_writer, a_frame_is_a_big_endian_length_then_the_payload) {
    troupe::wire::frame_writer w;
    w.write(bytes({0x92, 0x01, 0x02}));
    EXPECT_EQ(hex(w.pending()), "00 00 00 03 92 01 02");
    EXPECT_EQ(w.frames(), 1u);
    troupe::wire::frame_writer big;
    big.write(std::vector<std::byte>(0x010203, std::byte{0}));
    EXPECT_EQ(hex(big.pending().first(4)), "00 01 02 03");
    EXPECT_EQ(big.pending().size(), 4u + 0x010203);
}

TEST(frame_writer, small_frames_are_coalesced_into_one_buffer) {
    troupe::wire::frame_writer w;
    w.write(bytes({0x01}));
    w.write({});
    w.write_with([](std::vector<std::byte>& out) { troupe::wire::encode(std::string("ab"), out); });
    EXPECT_EQ(hex(w.pending()), "00 00 00 01 01 00 00 00 00 00 00 00 03 a2 61 62");
    EXPECT_EQ(w.frames(), 3u);
    const std::vector<std::byte> taken = w.take();
    EXPECT_EQ(taken.size(), 16u);
    EXPECT_TRUE(w.empty());
    EXPECT_EQ(w.frames(), 0u);
    w.write(bytes({0x02}));
    w.clear();
    EXPECT_TRUE(w.empty());
}

TEST(frame_writer, a_frame_above_the_maximum_is_refused_and_nothing_is_appended) {
    troupe::wire::frame_writer w(4);
    w.write(bytes({1, 2, 3, 4}));
    EXPECT_THROW(w.write(bytes({1, 2, 3, 4, 5})), troupe::wire::frame_error);
    EXPECT_THROW(w.write_with([](std::vector<std::byte>& out) { out.resize(out.size() + 5); }),
                 troupe::wire::frame_error);
    EXPECT_EQ(hex(w.pending()), "00 00 00 04 01 02 03 04");
    EXPECT_EQ(w.frames(), 1u);
    EXPECT_EQ(w.max_frame(), 4u);
    EXPECT_EQ(troupe::wire::frame_writer().max_frame(), troupe::wire::default_max_frame);
}

TEST(frame_writer, a_fill_that_throws_appends_nothing) {
    troupe::wire::frame_writer w;
    w.write(bytes({7}));
    EXPECT_THROW(w.write_with([](std::vector<std::byte>& out) {
        out.push_back(std::byte{1});
        throw std::runtime_error("encoder failed");
    }),
                 std::runtime_error);
    EXPECT_EQ(hex(w.pending()), "00 00 00 01 07");
    EXPECT_EQ(w.frames(), 1u);
}

}  // namespace
