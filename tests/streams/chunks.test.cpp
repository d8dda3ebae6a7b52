#include <troupe/streams/broker.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// The embedded broker keeps a partition's records in chunks of 256 and reuses the chunks its
// logs let go of. A reused chunk's slots still hold the bytes of the records that were there
// (an append overwrites them), so these tests check that a record read from a reused chunk is
// exactly the record produced, with none of its predecessor's key, headers or object, and that
// an object carried in a record goes once nobody holds the record, its chunk kept or not.

namespace {

using namespace troupe::streams;

std::string text_of(const bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Record i of round r: every third has a key, every fifth a header, the value always.
outgoing numbered(int round, int i) {
    outgoing r{.topic = "t", .value = bytes_of("value " + std::to_string(round) + "/" + std::to_string(i))};
    if (i % 3 == 0) {
        r.key = bytes_of("key " + std::to_string(i));
    }
    if (i % 5 == 0) {
        r.headers.push_back({"h", bytes_of(std::to_string(round))});
    }
    if ((i + round) % 2 == 0) {
        r.timestamp_ms = 1000 * round + i;
    }
    return r;
}

TEST(Chunks, ARecordInAReusedChunkIsTheRecordProducedAndNothingOfTheOneBefore) {
    // Rounds of 1,024 records (4 chunks), each read and committed in full, so that from the
    // second round on every chunk is one the log let go of. The rounds shift which records
    // have keys, headers and timestamps, so a field left over from a slot's last use shows.
    auto b = make_embedded_broker({.max_backlog = 0});
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    const topic_partition tp{"t", 0};
    constexpr int each = 1024;
    for (int round = 0; round < 4; ++round) {
        for (int i = 0; i < each; ++i) {
            b->produce_soon(numbered(round, (i + round) % each));
        }
        std::vector<record_ptr> got;
        while (got.size() < static_cast<std::size_t>(each)) {
            for (auto& r : c->poll(each)) {
                got.push_back(std::move(r));
            }
        }
        for (int i = 0; i < each; ++i) {
            const outgoing want = numbered(round, (i + round) % each);
            const record& r = *got[i];
            ASSERT_EQ(r.offset, static_cast<std::uint64_t>(round * each + i));
            EXPECT_EQ(r.topic, "t");
            EXPECT_EQ(text_of(r.value), text_of(want.value)) << "round " << round << ", record " << i;
            EXPECT_EQ(r.key, want.key) << "round " << round << ", record " << i;
            EXPECT_EQ(r.headers, want.headers) << "round " << round << ", record " << i;
            if (want.timestamp_ms) {
                EXPECT_EQ(r.timestamp_ms, *want.timestamp_ms);
            }
            EXPECT_EQ(r.object, nullptr);
        }
        got.clear();
        c->commit({{tp, b->end_offset(tp)}});
        EXPECT_EQ(b->start_offset(tp), b->end_offset(tp));  // every chunk let go of
    }
}

TEST(Chunks, AnObjectInARecordGoesOnceNobodyHoldsTheRecord) {
    // Records carrying objects (as a channel's do): once read, committed and no longer held,
    // each object is destroyed, though the chunk it was in is kept for reuse. A record still
    // held keeps its chunk, and with it the objects of that chunk's records, until it is let
    // go of; the other chunk's objects are gone at the commit.
    auto b = make_embedded_broker({.max_backlog = 0});
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    const topic_partition tp{"t", 0};
    constexpr int n = 512;  // two whole chunks
    std::vector<std::weak_ptr<const void>> objects;
    for (int i = 0; i < n; ++i) {
        auto object = std::make_shared<const int>(i);
        objects.push_back(object);
        b->produce_soon({.topic = "t", .object = std::move(object)});
    }
    record_ptr kept;
    std::size_t read = 0;
    while (read < static_cast<std::size_t>(n)) {
        for (auto& r : c->poll(n)) {
            if (r->offset == 300) {
                kept = r;
            }
            ++read;
        }
    }
    c->commit({{tp, b->end_offset(tp)}});
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(objects[i].expired(), i < 256) << "record " << i;  // offset 300 is in the second chunk
    }
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(*static_cast<const int*>(kept->object.get()), 300);
    kept.reset();
    for (int i = 0; i < n; ++i) {
        EXPECT_TRUE(objects[i].expired()) << "record " << i;
    }
}

}  // namespace
