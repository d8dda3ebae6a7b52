#include <troupe/streams/offset_tracker.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace {

using troupe::streams::offset_tracker;

TEST(OffsetTracker, StartsAtTheCommittedOffset) {
    const offset_tracker t(42);
    EXPECT_EQ(t.committed(), 42U);
    EXPECT_EQ(t.committable(), 42U);
    EXPECT_EQ(t.next_to_read(), 42U);
    EXPECT_FALSE(t.commit_due());
}

TEST(OffsetTracker, TheCommitStopsAtTheOldestRecordInFlight) {
    offset_tracker t(10);
    t.read(10);
    t.read(11);
    t.read(14);  // 12 and 13 do not exist
    t.ack(11);
    t.ack(14);
    EXPECT_EQ(t.committable(), 10U);
    EXPECT_FALSE(t.commit_due());
    EXPECT_EQ(t.in_flight(), 1U);
    t.ack(10);
    EXPECT_EQ(t.committable(), 15U);
    EXPECT_TRUE(t.commit_due());
    EXPECT_EQ(t.in_flight(), 0U);
}

TEST(OffsetTracker, ARecordInFlightRightAfterTheCommittedOffsetHoldsTheCommit) {
    // Faust's fs#606: with the committed offset at 0 and record 0 in flight, acks of 1 and 2
    // must not let a commit jump past 0.
    offset_tracker t(0);
    t.read(0);
    t.read(1);
    t.read(2);
    t.ack(1);
    t.ack(2);
    EXPECT_EQ(t.committable(), 0U);
}

TEST(OffsetTracker, AbsentOffsetsBetweenReadsDoNotHoldTheCommitBack) {
    offset_tracker t(0);
    t.read(5);  // 0..4 were compacted away
    t.ack(5);
    EXPECT_EQ(t.committable(), 6U);
}

TEST(OffsetTracker, AnIdlePartitionStaysCommittable) {
    offset_tracker t(3);
    t.read(3);
    t.ack(3);
    t.mark_committed(t.committable());
    EXPECT_EQ(t.committed(), 4U);
    EXPECT_FALSE(t.commit_due());
    EXPECT_EQ(t.committable(), 4U);
}

TEST(OffsetTracker, MarkingAnOlderCommitChangesNothing) {
    offset_tracker t(8);
    t.mark_committed(5);
    EXPECT_EQ(t.committed(), 8U);
}

TEST(OffsetTracker, ReadingOutOfOrderIsAnError) {
    offset_tracker t(10);
    EXPECT_THROW(t.read(9), troupe::error);
    t.read(12);
    try {
        t.read(12);
        FAIL() << "a second read of 12 was taken";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(),
                     "offset_tracker: offset 12 read after offset 12 (or below the start at 10): a partition's "
                     "records are read in order");
    }
}

TEST(OffsetTracker, AcknowledgingWhatIsNotInFlightIsAnError) {
    offset_tracker t(0);
    EXPECT_THROW(t.ack(0), troupe::error);  // never read
    t.read(0);
    t.read(1);
    t.ack(1);
    try {
        t.ack(1);
        FAIL() << "a second ack of 1 was taken";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "offset_tracker: offset 1 is not in flight (not read, or acknowledged already)");
    }
    EXPECT_EQ(t.in_flight(), 1U);
}

TEST(OffsetTracker, AcksInReadOrderMoveTheCommitOneByOne) {
    // The usual order (one instance): each ack is of the oldest record in flight.
    offset_tracker t(0);
    for (std::uint64_t o = 0; o < 4; ++o) {
        t.read(o);
    }
    t.ack(2);  // one finished early: the acks of 0 and 1 then move past it too
    t.ack(0);
    EXPECT_EQ(t.committable(), 1U);
    t.ack(1);
    EXPECT_EQ(t.committable(), 3U);
    EXPECT_THROW(t.ack(0), troupe::error);  // a second ack of what was the oldest
    t.ack(3);
    EXPECT_EQ(t.committable(), 4U);
    EXPECT_EQ(t.in_flight(), 0U);
}

// The commit rule as a property: records read in order with holes between them, up to
// `concurrency` in flight at once and acknowledged in a random order (an agent with
// concurrency > 1 whose events take random times). At every step the committable offset is
// exactly the oldest unacknowledged offset (or the next to read), so a process that commits it
// and crashes reads again every record it had not finished: nothing is lost. It never moves
// back, and once all is acknowledged it reaches the end.
TEST(OffsetTracker, ACommitNeverPassesARecordInFlight) {
    for (std::uint32_t seed = 1; seed <= 300; ++seed) {
        std::mt19937 random(seed);
        const auto concurrency = std::uniform_int_distribution<std::size_t>(1, 8)(random);
        const std::uint64_t start = std::uniform_int_distribution<std::uint64_t>(0, 5)(random);
        offset_tracker t(start);
        std::set<std::uint64_t> unacked;
        std::uint64_t next = start;
        std::uint64_t last_committable = t.committable();
        int reads = 0;
        while (reads < 200 || !unacked.empty()) {
            const bool read = reads < 200 && (unacked.size() < concurrency) &&
                              (unacked.empty() || std::bernoulli_distribution(0.5)(random));
            if (read) {
                next += std::uniform_int_distribution<std::uint64_t>(0, 3)(random);  // holes of 0..3
                t.read(next);
                unacked.insert(next);
                ++next;
                ++reads;
            } else {
                auto it = std::next(unacked.begin(), std::uniform_int_distribution<std::ptrdiff_t>(
                                                         0, static_cast<std::ptrdiff_t>(unacked.size()) - 1)(random));
                t.ack(*it);
                unacked.erase(it);
            }
            const std::uint64_t c = t.committable();
            const std::uint64_t expected = unacked.empty() ? next : *unacked.begin();
            ASSERT_EQ(c, expected) << "seed " << seed;
            ASSERT_GE(c, last_committable) << "seed " << seed;
            ASSERT_EQ(t.in_flight(), unacked.size()) << "seed " << seed;
            if (std::bernoulli_distribution(0.2)(random)) {
                t.mark_committed(c);  // the commit timer fired
            }
            last_committable = c;
        }
        EXPECT_EQ(t.committable(), t.next_to_read()) << "seed " << seed;
    }
}

}  // namespace
