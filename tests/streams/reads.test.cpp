#include <troupe/streams/broker.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

// A member of a group polls without the embedded broker's lock while the partitions it reads
// have not changed: it reads each log's end as published and follows its chunks from one to the
// next. These tests read on one thread while another appends (run them under ThreadSanitizer
// too), and reach the places where a poll needs the lock after all: a chunk the log dropped
// under the reader's feet, and a partition given to another member.

namespace {

using namespace troupe::streams;

std::string text_of(const bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Reads `n` records of `tp` from `c`, waiting when there is none, committing every `every`.
std::vector<record_ptr> read_all(consumer& c, const topic_partition& tp, std::size_t n, std::size_t every) {
    std::vector<record_ptr> got;
    std::size_t since_commit = 0;
    while (got.size() < n) {
        std::vector<record_ptr> batch = c.poll(97);  // a batch size that does not divide a chunk
        if (batch.empty()) {
            c.when_readable().get();
            continue;
        }
        since_commit += batch.size();
        for (auto& r : batch) {
            got.push_back(std::move(r));
        }
        if (since_commit >= every) {
            c.commit({{tp, got.back()->offset + 1}});  // frees the chunks read past
            since_commit = 0;
        }
    }
    return got;
}

TEST(Reads, AReaderOnItsOwnThreadGetsEveryRecordInOrderWhileAProducerAppends) {
    // 20,000 records (78 chunks) through a bound of 1,000: the producer is held back whenever the
    // reader falls behind, the reader waits whenever it catches up, and its commits drop the
    // chunks it has passed, which the producer then reuses.
    auto b = make_embedded_broker({.max_backlog = 1000});
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto c = b->subscribe("g", {"t"});
    constexpr std::size_t n = 20000;
    std::thread producer([&] {
        for (std::size_t i = 0; i < n; ++i) {
            b->produce_soon({.topic = "t", .value = bytes_of("value " + std::to_string(i))});
        }
    });
    const std::vector<record_ptr> got = read_all(*c, tp, n, 500);
    producer.join();
    ASSERT_EQ(got.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i]->offset, i);
        ASSERT_EQ(text_of(got[i]->value), "value " + std::to_string(i));
    }
    EXPECT_TRUE(c->poll(10).empty());
}

TEST(Reads, AReaderWhoseChunkWasDroppedAtItsEndGoesOnWithTheNextRecords) {
    // The reader stops exactly at the end of a chunk and commits there: the log drops the chunk
    // it was reading in. The records that come next are in a chunk made after that; the reader
    // finds it with the broker's lock, once, and reads on.
    auto b = make_embedded_broker({.max_backlog = 0});
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto c = b->subscribe("g", {"t"});
    for (int i = 0; i < 256; ++i) {
        b->produce_soon({.topic = "t", .value = bytes_of(std::to_string(i))});
    }
    std::size_t read = 0;
    while (read < 256) {
        read += c->poll(256).size();
    }
    c->commit({{tp, 256}});
    EXPECT_EQ(b->start_offset(tp), 256u);  // the chunk is gone from the log
    EXPECT_TRUE(c->poll(10).empty());
    for (int i = 256; i < 300; ++i) {
        b->produce_soon({.topic = "t", .value = bytes_of(std::to_string(i))});
    }
    const std::vector<record_ptr> next = c->poll(100);
    ASSERT_EQ(next.size(), 44u);
    for (std::size_t k = 0; k < next.size(); ++k) {
        EXPECT_EQ(next[k]->offset, 256 + k);
        EXPECT_EQ(text_of(next[k]->value), std::to_string(256 + k));
    }
}

TEST(Reads, APartitionGivenToAnotherMemberIsReadByItFromTheCommitAndNoLongerByTheFirst) {
    // Member a reads both partitions and polls (without the lock) until it has read some of
    // each; b joins, a is asked to give up a partition, commits what it read and releases it.
    // From then on a's polls give nothing of that partition, and b reads it from a's commit.
    auto b = make_embedded_broker({.max_backlog = 0});
    b->create_topic("t", 2);
    auto a = b->subscribe("g", {"t"});
    for (int i = 0; i < 600; ++i) {
        b->produce_soon(
            {.topic = "t", .partition = static_cast<std::uint32_t>(i % 2), .value = bytes_of(std::to_string(i))});
    }
    std::vector<std::uint64_t> read_of(2, 0);  // the next offset a reads in each partition
    while (read_of[0] < 100 || read_of[1] < 100) {
        for (const auto& r : a->poll(50)) {
            EXPECT_EQ(r->offset, read_of[r->partition]);
            read_of[r->partition] = r->offset + 1;
        }
    }
    auto second = b->subscribe("g", {"t"});
    const std::vector<topic_partition> revoked = a->revoking();
    ASSERT_EQ(revoked.size(), 1u);
    const topic_partition given = revoked.front();
    const topic_partition kept{"t", 1 - given.partition};
    // While it is being revoked, a reads no more of it (its polls see the change first).
    for (const auto& r : a->poll(1000)) {
        EXPECT_EQ(r->partition, kept.partition);
    }
    a->commit({{given, read_of[given.partition]}});
    a->release({given});
    for (int i = 600; i < 700; ++i) {
        b->produce_soon(
            {.topic = "t", .partition = static_cast<std::uint32_t>(i % 2), .value = bytes_of(std::to_string(i))});
    }
    const std::vector<record_ptr> kept_on = a->poll(1000);
    EXPECT_EQ(kept_on.size(), 50u);  // the new records of the partition it kept, and no others
    for (const auto& r : kept_on) {
        EXPECT_EQ(r->partition, kept.partition);
    }
    std::vector<record_ptr> taken = second->poll(1000);
    ASSERT_EQ(taken.size(), 350 - read_of[given.partition]);
    for (std::size_t k = 0; k < taken.size(); ++k) {
        EXPECT_EQ(taken[k]->partition, given.partition);
        EXPECT_EQ(taken[k]->offset, read_of[given.partition] + k);
    }
}

}  // namespace
