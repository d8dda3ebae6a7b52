#include <troupe/streams/broker.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include "streams/broker_helpers.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// The embedded broker behind the broker interface: topics of partitions, offsets, consumer
// groups sharing partitions, commits (retention.test.cpp: what commits free). Each test opens
// a broker of its own name.

namespace {

using namespace troupe::streams;
using namespace broker_test;

TEST(MemoryBroker, OneUrlIsOneBroker) {
    auto a = open_broker("memory://one-url");
    auto b = open_broker("memory://one-url");
    auto other = open_broker("memory://another-url");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, other);
    EXPECT_EQ(open_broker("memory://"), open_broker("memory://"));
    EXPECT_EQ(message_of([] { open_broker("kafka://localhost:9092"); }),
              "streams: no broker for 'kafka://localhost:9092' (known: memory://, memory://<name>)");
}

TEST(MemoryBroker, TopicsHavePartitions) {
    auto b = open_broker("memory://topics");
    b->create_topic("orders", 4);
    b->create_topic("orders", 4);  // again, the same: nothing happens
    b->create_topic("audit", 1);
    EXPECT_EQ(b->partitions("orders"), 4U);
    EXPECT_EQ(b->partitions("nothing"), std::nullopt);
    EXPECT_EQ(b->topics(), (std::vector<std::string>{"audit", "orders"}));
    EXPECT_EQ(message_of([&] { b->create_topic("orders", 2); }),
              "memory broker: topic 'orders' exists with 4 partitions, not 2");
    EXPECT_EQ(message_of([&] { b->create_topic("empty", 0); }),
              "memory broker: topic 'empty' needs at least 1 partition");
    EXPECT_EQ(message_of([&] {
                  b->end_offset({"orders", 4});
              }),
              "memory broker: no partition orders/4 (the topic has 4)");
}

TEST(MemoryBroker, EachPartitionNumbersItsRecords) {
    auto b = open_broker("memory://offsets");
    b->create_topic("t", 2);
    EXPECT_EQ(put(*b, "t", 0, "a").offset, 0U);
    EXPECT_EQ(put(*b, "t", 0, "b").offset, 1U);
    EXPECT_EQ(put(*b, "t", 1, "c").offset, 0U);
    EXPECT_EQ(b->end_offset({"t", 0}), 2U);
    EXPECT_EQ(b->end_offset({"t", 1}), 1U);
    const auto stamped = b->produce({.topic = "t", .partition = 1U, .timestamp_ms = 1234}).get();
    EXPECT_EQ(stamped.timestamp_ms, 1234);
}

TEST(MemoryBroker, AKeyAlwaysGoesToOnePartitionAndNoKeyGoesInTurn) {
    auto b = open_broker("memory://keys");
    b->create_topic("t", 8);
    const auto first = b->produce({.topic = "t", .key = bytes_of("alice")}).get().partition;
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(b->produce({.topic = "t", .key = bytes_of("alice")}).get().partition, first);
    }
    EXPECT_EQ(first, partition_for_key(bytes_of("alice"), 8));
    std::vector<std::uint32_t> turns;
    for (int i = 0; i < 9; ++i) {
        turns.push_back(b->produce({.topic = "t"}).get().partition);
    }
    EXPECT_EQ(turns, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 0}));
}

TEST(MemoryBroker, ProducingWhereThereIsNoPartitionFails) {
    auto b = open_broker("memory://produce-errors");
    b->create_topic("t", 2);
    EXPECT_EQ(message_of([&] { b->produce({.topic = "nope"}).get(); }),
              "memory broker: cannot produce to 'nope': no such topic");
    EXPECT_EQ(message_of([&] { b->produce({.topic = "t", .partition = 2U}).get(); }),
              "memory broker: cannot produce to partition 2 of 't', which has 2");
}

TEST(MemoryBroker, ProducingSoonReportsNothingButFailsAtOnceWhereThereIsNoPartition) {
    auto b = open_broker("memory://produce-soon");
    b->create_topic("t", 2);
    b->produce_soon({.topic = "t", .partition = 1U, .value = bytes_of("a")});
    b->produce_soon({.topic = "t", .partition = 1U, .value = bytes_of("b")});
    EXPECT_EQ(b->end_offset({"t", 1}), 2U);
    EXPECT_EQ(message_of([&] { b->produce_soon({.topic = "nope"}); }),
              "memory broker: cannot produce to 'nope': no such topic");
    EXPECT_EQ(message_of([&] { b->produce_soon({.topic = "t", .partition = 2U}); }),
              "memory broker: cannot produce to partition 2 of 't', which has 2");
    auto c = b->subscribe("g", {"t"});
    EXPECT_EQ(values(c->fetch(10).get()), (std::vector<std::string>{"a", "b"}));
}

TEST(MemoryBroker, ALongLogKeepsEveryRecordWhereItWasAcrossTopics) {
    // Records are stored in chunks of a few hundred: reads that cross from one to the next,
    // and appends that switch between topics, find each record at its offset.
    auto b = open_broker("memory://long-log");
    b->create_topic("one", 1);
    b->create_topic("two", 1);
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i) {
        b->produce_soon({.topic = i % 3 == 0 ? "two" : "one", .partition = 0U, .value = bytes_of(std::to_string(i))});
    }
    auto c = b->subscribe("g", {"one", "two"});
    std::map<std::string, std::vector<int>> seen;
    for (int got = 0; got < n;) {
        for (const auto& r : c->fetch(97).get()) {
            ASSERT_EQ(r->offset, seen[r->topic].size());
            seen[r->topic].push_back(std::stoi(text(r->value)));
            ++got;
        }
    }
    ASSERT_EQ(seen["two"].size(), 334U);
    ASSERT_EQ(seen["one"].size(), 666U);
    for (std::size_t k = 0; k < seen["two"].size(); ++k) {
        ASSERT_EQ(seen["two"][k], static_cast<int>(3 * k));
    }
    EXPECT_EQ(seen["one"].front(), 1);
    EXPECT_EQ(seen["one"].back(), 998);
}

TEST(MemoryBroker, AMemberReadsEveryPartitionInOrder) {
    auto b = open_broker("memory://one-member");
    b->create_topic("t", 2);
    put(*b, "t", 0, "a0");
    put(*b, "t", 1, "b0");
    put(*b, "t", 0, "a1");
    auto c = b->subscribe("g", {"t"});
    EXPECT_EQ(c->assignment(), (std::vector<topic_partition>{{"t", 0}, {"t", 1}}));
    std::map<std::uint32_t, std::vector<std::string>> by_partition;
    for (const auto& r : c->fetch(10).get()) {
        by_partition[r->partition].push_back(text(r->value));
        EXPECT_EQ(r->topic, "t");
    }
    EXPECT_EQ(by_partition[0], (std::vector<std::string>{"a0", "a1"}));
    EXPECT_EQ(by_partition[1], (std::vector<std::string>{"b0"}));
}

TEST(MemoryBroker, AFetchWaitsForARecordAndTakesAtMostItsCount) {
    auto b = open_broker("memory://waiting");
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    auto f = c->fetch(2);
    EXPECT_FALSE(f.ready());
    put(*b, "t", 0, "x");
    ASSERT_TRUE(f.ready());
    EXPECT_EQ(values(f.get()), (std::vector<std::string>{"x"}));
    put(*b, "t", 0, "y");
    put(*b, "t", 0, "z");
    put(*b, "t", 0, "w");
    EXPECT_EQ(values(c->fetch(2).get()), (std::vector<std::string>{"y", "z"}));
    EXPECT_EQ(values(c->fetch(2).get()), (std::vector<std::string>{"w"}));
}

TEST(MemoryBroker, APollTakesWhatIsThereWithoutWaiting) {
    auto b = open_broker("memory://polling");
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    EXPECT_TRUE(c->poll(10).empty());
    put(*b, "t", 0, "a");
    put(*b, "t", 0, "b");
    put(*b, "t", 0, "c");
    EXPECT_EQ(values(c->poll(2)), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(values(c->poll(2)), (std::vector<std::string>{"c"}));
    EXPECT_TRUE(c->poll(2).empty());
    EXPECT_EQ(message_of([&] { c->poll(0); }), "memory broker: a poll of 0 records");
}

TEST(MemoryBroker, AWaitForRecordsTakesNoneAndWhatCameMeanwhileIsOneBatch) {
    auto b = open_broker("memory://readable");
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    auto w = c->when_readable();
    auto again = c->when_readable();  // the same wait
    EXPECT_FALSE(w.ready());
    EXPECT_FALSE(again.ready());
    put(*b, "t", 0, "x");
    ASSERT_TRUE(w.ready());
    ASSERT_TRUE(again.ready());
    put(*b, "t", 0, "y");  // after the wake: waits for the poll with the first
    EXPECT_TRUE(c->when_readable().ready());
    EXPECT_EQ(values(c->poll(10)), (std::vector<std::string>{"x", "y"}));
    EXPECT_FALSE(c->when_readable().ready());
}

TEST(MemoryBroker, AWaitForRecordsIgnoresAPausedPartitionUntilResumed) {
    auto b = open_broker("memory://readable-pause");
    b->create_topic("t", 2);
    auto c = b->subscribe("g", {"t"});
    c->pause({"t", 0});
    auto w = c->when_readable();
    put(*b, "t", 0, "held");
    EXPECT_FALSE(w.ready());
    c->resume({"t", 0});
    ASSERT_TRUE(w.ready());
    EXPECT_EQ(values(c->poll(10)), (std::vector<std::string>{"held"}));
    auto next = c->when_readable();
    c->pause({"t", 1});  // while waiting: that partition no longer wakes it
    put(*b, "t", 1, "later");
    EXPECT_FALSE(next.ready());
    put(*b, "t", 0, "now");
    ASSERT_TRUE(next.ready());
    EXPECT_EQ(values(c->poll(10)), (std::vector<std::string>{"now"}));
}

TEST(MemoryBroker, AWaitForRecordsEndsWhenAPartitionWithRecordsIsHandedOver) {
    auto b = open_broker("memory://readable-handover");
    b->create_topic("t", 1);
    put(*b, "t", 0, "0");
    put(*b, "t", 0, "1");
    auto first = b->subscribe("g", {"t"});
    EXPECT_EQ(values(first->poll(1)), (std::vector<std::string>{"0"}));
    first->commit({{{"t", 0}, 1}});
    auto second = b->subscribe("g", {"t"});  // nothing to read: the partition stays with the first
    auto w = second->when_readable();
    EXPECT_FALSE(w.ready());
    first->close();
    ASSERT_TRUE(w.ready());
    EXPECT_EQ(values(second->poll(10)), (std::vector<std::string>{"1"}));
}

TEST(MemoryBroker, AWaitForRecordsAndAFetchExcludeEachOtherAndLeavingEndsThem) {
    auto b = open_broker("memory://readable-leaving");
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    auto w = c->when_readable();
    EXPECT_EQ(message_of([&] { c->fetch(1).get(); }),
              "memory broker: a member of group 'g' fetched while it waits for records to be readable");
    c->close();
    EXPECT_EQ(message_of([&] { w.get(); }),
              "memory broker: the member of group 'g' left the group while it waited for records");
    EXPECT_EQ(message_of([&] { c->when_readable().get(); }),
              "memory broker: a member of group 'g' waited for records after leaving it");
    EXPECT_EQ(message_of([&] { c->poll(1); }), "memory broker: a member of group 'g' polled after leaving it");

    auto d = b->subscribe("h", {"t"});
    auto f = d->fetch(1);
    EXPECT_EQ(message_of([&] { d->poll(1); }), "memory broker: a member of group 'h' polled while its fetch waits");
    EXPECT_EQ(message_of([&] { d->when_readable().get(); }),
              "memory broker: a member of group 'h' waited for records while its fetch waits");
    put(*b, "t", 0, "v");
    EXPECT_EQ(values(f.get()), (std::vector<std::string>{"v"}));
}

TEST(MemoryBroker, MembersOfAGroupShareItsPartitionsAndCoPartitionedTopicsGoTogether) {
    auto b = open_broker("memory://sharing");
    b->create_topic("left", 4);
    b->create_topic("right", 4);
    auto one = b->subscribe("g", {"left", "right"});
    EXPECT_EQ(one->assignment().size(), 8U);
    const auto before = one->generation();
    auto two = b->subscribe("g", {"left", "right"});
    EXPECT_GT(one->generation(), before);
    EXPECT_EQ(one->generation(), two->generation());
    // The first keeps what goes to the second until it gives it up.
    EXPECT_EQ(one->revoking(), (std::vector<topic_partition>{{"left", 1}, {"left", 3}, {"right", 1}, {"right", 3}}));
    EXPECT_EQ(one->assignment().size(), 8U);
    EXPECT_TRUE(two->assignment().empty());
    one->release(one->revoking());
    EXPECT_TRUE(one->revoking().empty());
    EXPECT_EQ(one->assignment(), (std::vector<topic_partition>{{"left", 0}, {"left", 2}, {"right", 0}, {"right", 2}}));
    EXPECT_EQ(two->assignment(), (std::vector<topic_partition>{{"left", 1}, {"left", 3}, {"right", 1}, {"right", 3}}));
}

TEST(MemoryBroker, GroupsReadIndependently) {
    auto b = open_broker("memory://groups");
    b->create_topic("t", 1);
    put(*b, "t", 0, "v");
    auto billing = b->subscribe("billing", {"t"});
    auto audit = b->subscribe("audit", {"t"});
    EXPECT_EQ(values(billing->fetch(5).get()), (std::vector<std::string>{"v"}));
    EXPECT_EQ(values(audit->fetch(5).get()), (std::vector<std::string>{"v"}));
}

TEST(MemoryBroker, APartitionHandedOverIsReadFromTheGroupsCommittedOffset) {
    auto b = open_broker("memory://handover");
    b->create_topic("t", 1);
    for (const char* v : {"0", "1", "2", "3"}) {
        put(*b, "t", 0, v);
    }
    auto first = b->subscribe("g", {"t"});
    EXPECT_EQ(values(first->fetch(3).get()), (std::vector<std::string>{"0", "1", "2"}));
    first->commit({{{"t", 0}, 2}});  // records 0 and 1 done; 2 was read but not finished
    EXPECT_EQ(b->committed("g", {"t", 0}), 2U);
    auto second = b->subscribe("g", {"t"});  // the single partition stays with the first
    EXPECT_TRUE(second->assignment().empty());
    auto waiting = second->fetch(10);
    EXPECT_FALSE(waiting.ready());
    first->close();
    // The second member now reads from the committed offset: record 2 again, then 3.
    ASSERT_TRUE(waiting.ready());
    EXPECT_EQ(values(waiting.get()), (std::vector<std::string>{"2", "3"}));
}

TEST(MemoryBroker, ARevokedPartitionGoesOnOnlyWhenReleasedAndIsReadFromTheCommit) {
    auto b = make_embedded_broker();
    b->create_topic("t", 2);
    for (const char* v : {"a", "b", "c"}) {
        put(*b, "t", 1, v);
    }
    auto first = b->subscribe("g", {"t"});
    EXPECT_EQ(values(first->fetch(10).get()), (std::vector<std::string>{"a", "b", "c"}));
    first->commit({{{"t", 1}, 1}});  // "a" done; "b" and "c" still being processed
    auto asked = first->when_revoking();
    EXPECT_FALSE(asked.ready());

    auto second = b->subscribe("g", {"t"});
    ASSERT_TRUE(asked.ready());
    EXPECT_EQ(first->revoking(), (std::vector<topic_partition>{{"t", 1}}));
    EXPECT_TRUE(first->when_revoking().ready());  // while it is being revoked
    auto waiting = second->fetch(10);
    put(*b, "t", 1, "d");
    EXPECT_FALSE(waiting.ready());         // not the second's yet
    EXPECT_TRUE(first->poll(10).empty());  // and the first gets nothing more of it
    first->commit({{{"t", 1}, 3}});        // but may commit what it finished
    first->release({{"t", 0}});            // not being revoked: nothing happens
    EXPECT_EQ(first->assignment().size(), 2U);
    EXPECT_FALSE(waiting.ready());

    first->release(first->revoking());
    EXPECT_EQ(first->assignment(), (std::vector<topic_partition>{{"t", 0}}));
    EXPECT_EQ(second->assignment(), (std::vector<topic_partition>{{"t", 1}}));
    ASSERT_TRUE(waiting.ready());
    EXPECT_EQ(values(waiting.get()), (std::vector<std::string>{"d"}));  // from the commit: nothing twice
    EXPECT_FALSE(first->when_revoking().ready());
}

TEST(MemoryBroker, ARevocationIsCalledOffWhenTheMemberItWasForLeaves) {
    auto b = make_embedded_broker();
    b->create_topic("t", 2);
    put(*b, "t", 1, "a");
    put(*b, "t", 1, "b");
    auto first = b->subscribe("g", {"t"});
    EXPECT_EQ(values(first->fetch(1).get()), (std::vector<std::string>{"a"}));
    auto second = b->subscribe("g", {"t"});
    EXPECT_EQ(first->revoking().size(), 1U);
    second->close();
    EXPECT_TRUE(first->revoking().empty());
    EXPECT_EQ(first->assignment().size(), 2U);
    // It reads on from where it was, not from the commit (none was made).
    EXPECT_EQ(values(first->poll(10)), (std::vector<std::string>{"b"}));
}

TEST(MemoryBroker, LeavingEndsAWaitForRevocationsAndHandsItsPartitionsOverAtOnce) {
    auto b = make_embedded_broker();
    b->create_topic("t", 2);
    auto first = b->subscribe("g", {"t"});
    auto second = b->subscribe("g", {"t"});
    first->release(first->revoking());
    auto asked = second->when_revoking();
    auto waiting = first->fetch(10);
    second->close();
    ASSERT_TRUE(asked.ready());
    EXPECT_EQ(message_of([&] { asked.get(); }),
              "memory broker: the member of group 'g' left the group while it waited for revocations");
    EXPECT_EQ(first->assignment().size(), 2U);
    put(*b, "t", 1, "x");
    ASSERT_TRUE(waiting.ready());
    EXPECT_EQ(values(waiting.get()), (std::vector<std::string>{"x"}));
}

TEST(MemoryBroker, AMemberThatKeepsARevokedPartitionPastTheTimeoutLosesIt) {
    auto b = make_embedded_broker({.rebalance_timeout = std::chrono::milliseconds(20)});
    b->create_topic("t", 2);
    put(*b, "t", 1, "a");
    auto first = b->subscribe("g", {"t"});
    EXPECT_EQ(values(first->fetch(10).get()), (std::vector<std::string>{"a"}));  // never finished
    auto second = b->subscribe("g", {"t"});
    auto waiting = second->fetch(10);
    // The broker's own thread hands t/1 over once the timeout has passed.
    ASSERT_TRUE(waiting.wait_for(std::chrono::seconds(30)));
    EXPECT_EQ(values(waiting.get()), (std::vector<std::string>{"a"}));  // read again: nothing was committed
    EXPECT_EQ(first->assignment(), (std::vector<topic_partition>{{"t", 0}}));
    EXPECT_TRUE(first->revoking().empty());
    EXPECT_EQ(message_of([&] {
                  first->commit({{{"t", 1}, 1}});
              }),
              "memory broker: a member of group 'g' committed t/1, which it does not read");
}

TEST(MemoryBroker, ACommitMustBeOfAnOwnPartitionAndWithinItsLog) {
    auto b = open_broker("memory://commit-errors");
    b->create_topic("t", 2);
    put(*b, "t", 0, "a");
    auto one = b->subscribe("g", {"t"});
    auto two = b->subscribe("g", {"t"});
    one->release(one->revoking());  // t/1 goes to the second
    EXPECT_EQ(message_of([&] {
                  one->commit({{{"t", 1}, 0}});
              }),
              "memory broker: a member of group 'g' committed t/1, which it does not read");
    EXPECT_EQ(message_of([&] {
                  one->commit({{{"t", 0}, 2}});
              }),
              "memory broker: a commit of t/0 at offset 2, past its end (1)");
    EXPECT_EQ(b->committed("g", {"t", 0}), std::nullopt);
    one->commit({{{"t", 0}, 1}});
    EXPECT_EQ(b->committed("g", {"t", 0}), 1U);
}

TEST(MemoryBroker, APausedPartitionIsNotReadUntilResumed) {
    auto b = open_broker("memory://pause");
    b->create_topic("t", 2);
    auto c = b->subscribe("g", {"t"});
    c->pause({"t", 0});
    put(*b, "t", 0, "held");
    auto f = c->fetch(10);
    EXPECT_FALSE(f.ready());
    put(*b, "t", 1, "flows");
    ASSERT_TRUE(f.ready());
    EXPECT_EQ(values(f.get()), (std::vector<std::string>{"flows"}));
    auto g = c->fetch(10);
    EXPECT_FALSE(g.ready());
    c->resume({"t", 0});
    ASSERT_TRUE(g.ready());
    EXPECT_EQ(values(g.get()), (std::vector<std::string>{"held"}));
}

TEST(MemoryBroker, LeavingFailsAWaitingFetchAndLaterOnes) {
    auto b = open_broker("memory://leaving");
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    auto f = c->fetch(1);
    EXPECT_EQ(message_of([&] { c->fetch(1).get(); }),
              "memory broker: a member of group 'g' fetched while its previous fetch still waits");
    c->close();
    EXPECT_EQ(message_of([&] { f.get(); }),
              "memory broker: the member of group 'g' left the group while its fetch waited");
    EXPECT_EQ(message_of([&] { c->fetch(1).get(); }), "memory broker: a member of group 'g' fetched after leaving it");
    c->close();  // again: nothing
}

TEST(MemoryBroker, SubscribingNeedsAGroupAndTopicsThatExist) {
    auto b = open_broker("memory://subscribe-errors");
    EXPECT_EQ(message_of([&] { b->subscribe("g", {"absent"}); }), "memory broker: no topic 'absent'");
    EXPECT_EQ(message_of([&] { b->subscribe("", {"absent"}); }), "memory broker: a consumer group needs a name");
    EXPECT_EQ(message_of([&] { b->subscribe("g", {}); }),
              "memory broker: a member of group 'g' must read at least one topic");
}

TEST(MemoryBroker, RecordsFromManyThreadsArriveOnceEachAndInOrderPerPartition) {
    auto b = open_broker("memory://threads");
    b->create_topic("t", 3);
    auto c = b->subscribe("g", {"t"});
    constexpr int producers = 4;
    constexpr int each = 2000;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 0; i < each; ++i) {
                // A producer's records all go to one partition (its key), so their order there is its order.
                b->produce({.topic = "t",
                            .key = bytes_of("producer-" + std::to_string(p)),
                            .value = bytes_of(std::to_string(p) + ":" + std::to_string(i))})
                    .get();
            }
        });
    }
    std::map<int, int> next;  // producer -> the next i expected from it
    std::map<std::uint32_t, std::uint64_t> offsets;
    int received = 0;
    while (received < producers * each) {
        for (const auto& r : c->fetch(256).get()) {
            const std::string v = text(r->value);
            const int p = std::stoi(v.substr(0, v.find(':')));
            const int i = std::stoi(v.substr(v.find(':') + 1));
            ASSERT_EQ(i, next[p]) << "producer " << p;
            ++next[p];
            ASSERT_EQ(r->offset, offsets[r->partition]++) << "partition " << r->partition;
            ++received;
        }
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(received, producers * each);
}

}  // namespace
