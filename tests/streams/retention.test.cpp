#include <troupe/streams/broker.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "streams/broker_helpers.hpp"

// Retention: a partition of the embedded broker frees, 256 records at a time, what every group
// that has subscribed to its topic has committed past. Each test opens a broker of its own name.

namespace {

using namespace troupe::streams;
using namespace broker_test;

/// Appends `n` records to `tp`, each valued with its offset.
void fill(broker& b, const topic_partition& tp, int n) {
    const std::uint64_t end = b.end_offset(tp);
    for (int i = 0; i < n; ++i) {
        b.produce_soon({.topic = tp.topic, .partition = tp.partition, .value = bytes_of(std::to_string(end + i))});
    }
}

/// Everything `c` can take now.
std::vector<record_ptr> drain(consumer& c) {
    std::vector<record_ptr> all;
    for (auto got = c.poll(1000); !got.empty(); got = c.poll(1000)) {
        all.insert(all.end(), got.begin(), got.end());
    }
    return all;
}

/// How many records `tp` holds.
std::uint64_t held(const broker& b, const topic_partition& tp) {
    return b.end_offset(tp) - b.start_offset(tp);
}

TEST(MemoryBroker, ACommitPastWholeChunksFreesThem) {
    auto b = open_broker("memory://retention-commit");
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto c = b->subscribe("g", {"t"});
    fill(*b, tp, 600);
    std::vector<record_ptr> read = drain(*c);
    ASSERT_EQ(read.size(), 600U);
    const std::weak_ptr<const record> first = read[0];     // in the chunk of offsets 0-255
    const std::weak_ptr<const record> middle = read[300];  // 256-511
    read.clear();                                          // now only the log holds them
    EXPECT_FALSE(first.expired());
    EXPECT_EQ(b->start_offset(tp), 0U);

    c->commit({{tp, 255}});  // record 255 is not finished: its chunk stays
    EXPECT_EQ(b->start_offset(tp), 0U);
    EXPECT_FALSE(first.expired());
    c->commit({{tp, 256}});
    EXPECT_EQ(b->start_offset(tp), 256U);
    EXPECT_TRUE(first.expired());
    EXPECT_FALSE(middle.expired());
    c->commit({{tp, 600}});  // 512-599 is the chunk being appended to: it stays
    EXPECT_EQ(b->start_offset(tp), 512U);
    EXPECT_TRUE(middle.expired());
    EXPECT_EQ(b->end_offset(tp), 600U);  // offsets go on where they were
    EXPECT_EQ(held(*b, tp), 88U);

    fill(*b, tp, 168);  // up to 768, a chunk's end
    EXPECT_EQ(drain(*c).size(), 168U);
    c->commit({{tp, 768}});
    EXPECT_EQ(b->start_offset(tp), 768U);  // nothing is held
    EXPECT_EQ(held(*b, tp), 0U);
    fill(*b, tp, 1);
    const auto next = c->poll(10);
    ASSERT_EQ(next.size(), 1U);
    EXPECT_EQ(next[0]->offset, 768U);
    EXPECT_EQ(text(next[0]->value), "768");
    EXPECT_EQ(message_of([&] { b->start_offset({"t", 1}); }), "memory broker: no partition t/1 (the topic has 1)");
}

TEST(MemoryBroker, ATopicNoGroupHasSubscribedToKeepsEveryRecord) {
    auto b = open_broker("memory://retention-no-interest");
    b->create_topic("read", 1);
    b->create_topic("unread", 1);  // a dead-letter topic, or one whose agent starts later
    fill(*b, {"read", 0}, 1000);
    fill(*b, {"unread", 0}, 1000);
    auto c = b->subscribe("g", {"read"});
    EXPECT_EQ(drain(*c).size(), 1000U);
    c->commit({{{"read", 0}, 1000}});
    EXPECT_EQ(b->start_offset({"read", 0}), 768U);
    EXPECT_EQ(b->start_offset({"unread", 0}), 0U);
    EXPECT_EQ(held(*b, {"unread", 0}), 1000U);
    auto later = b->subscribe("later", {"unread"});
    const auto all = drain(*later);
    ASSERT_EQ(all.size(), 1000U);
    EXPECT_EQ(all.front()->offset, 0U);
}

TEST(MemoryBroker, TheSlowerOfTwoGroupsHoldsTheRecords) {
    auto b = open_broker("memory://retention-two-groups");
    b->create_topic("t", 2);
    const topic_partition tp{"t", 0};
    auto fast = b->subscribe("fast", {"t"});
    auto slow = b->subscribe("slow", {"t"});
    fill(*b, tp, 1000);
    fill(*b, {"t", 1}, 1000);
    EXPECT_EQ(drain(*fast).size(), 2000U);
    fast->commit({{tp, 1000}, {{"t", 1}, 1000}});
    EXPECT_EQ(b->start_offset(tp), 0U);  // "slow" has committed nothing: it may still read it all
    EXPECT_EQ(drain(*slow).size(), 2000U);
    EXPECT_EQ(b->start_offset(tp), 0U);  // reading is not committing
    slow->commit({{tp, 300}});
    EXPECT_EQ(b->start_offset(tp), 256U);
    EXPECT_EQ(b->start_offset({"t", 1}), 0U);  // a commit frees in its own partitions only
    slow->commit({{tp, 1000}});
    EXPECT_EQ(b->start_offset(tp), 768U);

    fill(*b, tp, 1000);  // now "slow" is ahead
    EXPECT_EQ(drain(*slow).size(), 1000U);
    slow->commit({{tp, 2000}});
    EXPECT_EQ(b->start_offset(tp), 768U);  // "fast" committed 1000
    EXPECT_EQ(drain(*fast).size(), 1000U);
    fast->commit({{tp, 2000}});
    EXPECT_EQ(b->start_offset(tp), 1792U);
}

TEST(MemoryBroker, ARecordAConsumerHoldsOutlivesItsChunkInTheLog) {
    auto b = open_broker("memory://retention-held-record");
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto c = b->subscribe("g", {"t"});
    fill(*b, tp, 300);
    record_ptr kept = c->poll(1).at(0);
    EXPECT_EQ(drain(*c).size(), 299U);
    c->commit({{tp, 300}});
    EXPECT_EQ(b->start_offset(tp), 256U);  // the log let go of offsets 0-255...
    EXPECT_EQ(kept.use_count(), 1);        // ...and the chunk's one owner left is this record_ptr
    EXPECT_EQ(kept->offset, 0U);
    EXPECT_EQ(text(kept->value), "0");
    const std::weak_ptr<const record> gone = kept;
    kept.reset();
    EXPECT_TRUE(gone.expired());
}

TEST(MemoryBroker, AGroupThatComesAfterRecordsWereFreedReadsFromTheStart) {
    auto b = open_broker("memory://retention-late-group");
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto early = b->subscribe("early", {"t"});
    fill(*b, tp, 600);
    EXPECT_EQ(drain(*early).size(), 600U);
    early->commit({{tp, 600}});
    ASSERT_EQ(b->start_offset(tp), 512U);

    auto late = b->subscribe("late", {"t"});
    EXPECT_EQ(b->committed("late", tp), std::nullopt);
    const auto got = late->fetch(1000).get();  // Kafka's "earliest": the first record there is
    ASSERT_EQ(got.size(), 88U);
    EXPECT_EQ(got.front()->offset, 512U);
    EXPECT_EQ(text(got.front()->value), "512");

    // From now on the late group holds what it has not committed, like any other.
    fill(*b, tp, 600);
    EXPECT_EQ(drain(*early).size(), 600U);
    early->commit({{tp, 1200}});
    EXPECT_EQ(b->start_offset(tp), 512U);
    EXPECT_EQ(drain(*late).size(), 600U);
    late->commit({{tp, 800}});
    EXPECT_EQ(b->start_offset(tp), 768U);
}

TEST(MemoryBroker, AGroupThatComesWhenEverythingWasFreedWaitsForTheNextRecord) {
    auto b = open_broker("memory://retention-late-empty");
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto early = b->subscribe("early", {"t"});
    fill(*b, tp, 512);
    EXPECT_EQ(drain(*early).size(), 512U);
    early->commit({{tp, 512}});
    ASSERT_EQ(held(*b, tp), 0U);
    auto late = b->subscribe("late", {"t"});
    auto w = late->when_readable();
    EXPECT_FALSE(w.ready());  // its position (0) is below the start, but there is nothing to read
    EXPECT_TRUE(late->poll(10).empty());
    fill(*b, tp, 1);
    ASSERT_TRUE(w.ready());
    const auto got = late->poll(10);
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0]->offset, 512U);
}

TEST(MemoryBroker, ACommitBelowTheStartIsStoredAsTheStart) {
    auto b = open_broker("memory://retention-commit-below");
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto c = b->subscribe("g", {"t"});
    fill(*b, tp, 600);
    EXPECT_EQ(drain(*c).size(), 600U);
    c->commit({{tp, 600}});
    ASSERT_EQ(b->start_offset(tp), 512U);
    c->commit({{tp, 100}});  // 100-511 are gone: the group goes back as far as there are records
    EXPECT_EQ(b->committed("g", tp), 512U);
    EXPECT_EQ(b->start_offset(tp), 512U);
    c->close();
    auto again = b->subscribe("g", {"t"});  // takes the partition over from the committed offset
    const auto first = again->poll(1);
    ASSERT_EQ(first.size(), 1U);
    EXPECT_EQ(first[0]->offset, 512U);
}

TEST(MemoryBroker, AMemberReadingBehindWhatItCommittedHoldsTheChunkItReadsIn) {
    auto b = open_broker("memory://retention-read-behind");
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto c = b->subscribe("g", {"t"});
    fill(*b, tp, 600);
    c->commit({{tp, 600}});  // ahead of its reads: it has read nothing yet
    EXPECT_EQ(b->start_offset(tp), 0U);
    EXPECT_EQ(c->poll(300).size(), 300U);
    c->commit({{tp, 600}});
    EXPECT_EQ(b->start_offset(tp), 256U);
    const auto rest = drain(*c);
    ASSERT_EQ(rest.size(), 300U);
    EXPECT_EQ(rest.front()->offset, 300U);
}

TEST(MemoryBroker, AMillionRecordsProducedReadAndCommittedKeepTheLogBounded) {
    auto b = open_broker("memory://retention-long-run");
    b->create_topic("t", 1);
    const topic_partition tp{"t", 0};
    auto c = b->subscribe("g", {"t"});
    constexpr int rounds = 1000;
    constexpr int each = 1000;
    for (int r = 0; r < rounds; ++r) {
        fill(*b, tp, each);
        ASSERT_LE(held(*b, tp), 255U + each) << "round " << r;  // what the last commit left, and this round
        std::size_t got = 0;
        while (got < each) {
            got += c->poll(each).size();
        }
        c->commit({{tp, b->end_offset(tp)}});
        ASSERT_LT(held(*b, tp), 256U) << "round " << r;  // less than one chunk
    }
    EXPECT_EQ(b->end_offset(tp), 1'000'000U);
    EXPECT_EQ(b->start_offset(tp), 999'936U);  // 3906 whole chunks of 256
}

}  // namespace
