#include <troupe/wire/frame_reader.hpp>

#include <troupe/wire/frame_writer.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wire/wire_support.hpp"

using wire_test::bytes;
using wire_test::hex;

namespace {

/// Every complete frame the reader has, as hex.
std::vector<std::string> drain(troupe::wire::frame_reader& r) {
    std::vector<std::string> frames;
    while (auto f = r.next()) {
        frames.push_back(hex(*f));
    }
    return frames;
}

/// Three frames of different sizes (one empty), back to back.
std::vector<std::byte> three_frames() {
    troupe::wire::frame_writer w;
    w.write(bytes({0x01, 0x02, 0x03}));
    w.write({});
    w.write(bytes({0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00}));
    return w.take();
}
const std::vector<std::string> expected_frames{"01 02 03", "", "aa bb cc dd ee ff 00"};

TEST(frame_reader, coalesced_frames_in_one_chunk_come_out_one_by_one) {
    troupe::wire::frame_reader r;
    r.feed(three_frames());
    EXPECT_EQ(drain(r), expected_frames);
    EXPECT_EQ(r.buffered(), 0u);
    EXPECT_FALSE(r.next());
}

TEST(frame_reader, frames_split_at_every_byte_boundary_are_reassembled) {
    const std::vector<std::byte> stream = three_frames();
    // One split point anywhere, and reads after each chunk.
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        troupe::wire::frame_reader r;
        r.feed(std::span(stream).first(cut));
        std::vector<std::string> got = drain(r);
        r.feed(std::span(stream).subspan(cut));
        for (auto& f : drain(r)) {
            got.push_back(f);
        }
        EXPECT_EQ(got, expected_frames) << "split at byte " << cut;
        EXPECT_EQ(r.buffered(), 0u);
    }
    // Every chunk one byte long.
    troupe::wire::frame_reader r;
    std::vector<std::string> got;
    for (std::byte b : stream) {
        r.feed(std::span(&b, 1));
        for (auto& f : drain(r)) {
            got.push_back(f);
        }
    }
    EXPECT_EQ(got, expected_frames);
}

TEST(frame_reader, two_splits_at_every_pair_of_boundaries_are_reassembled) {
    const std::vector<std::byte> stream = three_frames();
    for (std::size_t a = 0; a <= stream.size(); ++a) {
        for (std::size_t b = a; b <= stream.size(); ++b) {
            troupe::wire::frame_reader r;
            std::vector<std::string> got;
            for (auto part :
                 {std::span(stream).subspan(0, a), std::span(stream).subspan(a, b - a), std::span(stream).subspan(b)}) {
                r.feed(part);
                for (auto& f : drain(r)) {
                    got.push_back(f);
                }
            }
            ASSERT_EQ(got, expected_frames) << "splits at " << a << " and " << b;
        }
    }
}

TEST(frame_reader, frames_stay_valid_until_the_next_feed) {
    troupe::wire::frame_reader r;
    r.feed(three_frames());
    const auto first = r.next();
    const auto second = r.next();
    const auto third = r.next();
    ASSERT_TRUE(first && second && third);
    EXPECT_EQ(hex(*first), "01 02 03");
    EXPECT_EQ(hex(*third), "aa bb cc dd ee ff 00");
}

TEST(frame_reader, a_length_above_the_maximum_closes_the_stream_without_allocating_it) {
    troupe::wire::frame_reader r(16);
    r.feed(bytes({0x00, 0x00, 0x00, 0x02, 0x05, 0x06}));
    r.feed(bytes({0xff, 0xff, 0xff, 0xff, 0x01}));  // claims 4 GiB - 1
    EXPECT_EQ(hex(*r.next()), "05 06") << "the frames before it are still delivered";
    try {
        (void)r.next();
        ADD_FAILURE() << "an oversized length was accepted";
    } catch (const troupe::wire::frame_error& e) {
        EXPECT_STREQ(e.what(), "a frame of 4294967295 bytes is larger than the maximum of 16");
    }
    EXPECT_TRUE(r.closed());
    EXPECT_EQ(r.buffered(), 0u);
    EXPECT_THROW((void)r.next(), troupe::wire::frame_error);
    EXPECT_THROW(r.feed(bytes({0x00})), troupe::wire::frame_error);
    EXPECT_THROW((void)r.prepare(1), troupe::wire::frame_error);

    troupe::wire::frame_reader defaults;
    defaults.feed(bytes({0x01, 0x00, 0x00, 0x01}));  // 16 MiB + 1
    EXPECT_THROW((void)defaults.next(), troupe::wire::frame_error);
    troupe::wire::frame_reader exact(16);
    exact.feed(bytes({0x00, 0x00, 0x00, 0x10}));
    exact.feed(std::vector<std::byte>(16, std::byte{1}));
    EXPECT_EQ(exact.next()->size(), 16u) << "the maximum itself is accepted";
}

TEST(frame_reader, a_partial_frame_waits_for_the_rest) {
    troupe::wire::frame_reader r;
    r.feed(bytes({0x00, 0x00}));
    EXPECT_FALSE(r.next());
    r.feed(bytes({0x00, 0x03, 0x01}));
    EXPECT_FALSE(r.next());
    EXPECT_EQ(r.buffered(), 5u);
    r.feed(bytes({0x02, 0x03, 0x00}));
    EXPECT_EQ(hex(*r.next()), "01 02 03");
    EXPECT_FALSE(r.next());
    EXPECT_EQ(r.buffered(), 1u) << "the first byte of the next frame's length";
}

TEST(frame_reader, bytes_can_be_read_into_the_reader_directly) {
    const std::vector<std::byte> stream = three_frames();
    troupe::wire::frame_reader r;
    std::vector<std::string> got;
    std::size_t at = 0;
    while (at < stream.size()) {
        std::span<std::byte> room = r.prepare(5);
        ASSERT_EQ(room.size(), 5u);
        const std::size_t n = std::min<std::size_t>(3, stream.size() - at);  // a short read
        std::memcpy(room.data(), stream.data() + at, n);
        r.commit(n);
        at += n;
        for (auto& f : drain(r)) {
            got.push_back(f);
        }
    }
    EXPECT_EQ(got, expected_frames);
    EXPECT_EQ(r.buffered(), 0u);
}

}  // namespace
