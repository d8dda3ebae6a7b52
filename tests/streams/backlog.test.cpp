#include <troupe/streams/app.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// Back-pressure: the embedded broker's bound on what a partition's readers have not committed
// (embedded_broker_options::max_backlog), the records it holds back, in order, until a commit
// makes room, the groups that set the pace, the timeout past which a partition overflows rather
// than hang its producers, and agents that commit every commit_every records so that producers
// held back by them go on. Every test has a broker of its own.

namespace {

using namespace std::chrono_literals;
using namespace troupe::streams;

outgoing numbered(int i) {
    return {.topic = "t", .value = bytes_of(std::to_string(i))};
}

std::string text_of(const bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

TEST(Backlog, ARecordPastTheBoundWaitsForACommitAndKeepsItsOrder) {
    auto b = make_embedded_broker({.max_backlog = 4});
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    std::vector<troupe::future<record_metadata>> sent;
    for (int i = 0; i < 7; ++i) {
        sent.push_back(b->produce(numbered(i)));
    }
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(sent[i].ready()) << i;
    }
    for (int i = 4; i < 7; ++i) {
        EXPECT_FALSE(sent[i].ready()) << i;  // the group has committed nothing: 4 is all it may lag
    }
    EXPECT_EQ(b->end_offset({"t", 0}), 4U);

    c->commit({{{"t", 0}, 2}});  // room for two more: the first two held, in the order produced
    ASSERT_TRUE(sent[4].ready());
    ASSERT_TRUE(sent[5].ready());
    EXPECT_FALSE(sent[6].ready());
    EXPECT_EQ(sent[4].get().offset, 4U);
    EXPECT_EQ(sent[5].get().offset, 5U);
    troupe::future<record_metadata> later = b->produce(numbered(7));
    EXPECT_FALSE(later.ready());  // it comes after the one still held

    c->commit({{{"t", 0}, 4}});
    ASSERT_TRUE(sent[6].ready());
    ASSERT_TRUE(later.ready());
    EXPECT_EQ(sent[6].get().offset, 6U);
    EXPECT_EQ(later.get().offset, 7U);
    std::vector<std::string> read;
    while (read.size() < 8) {
        for (const auto& r : c->fetch(16).get()) {
            read.push_back(text_of(r->value));
        }
    }
    EXPECT_EQ(read, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7"}));
}

TEST(Backlog, TheSlowestGroupWithAMemberSetsThePace) {
    auto b = make_embedded_broker({.max_backlog = 2});
    b->create_topic("t", 1);
    auto fast = b->subscribe("fast", {"t"});
    auto slow = b->subscribe("slow", {"t"});
    ASSERT_TRUE(b->produce(numbered(0)).ready());
    ASSERT_TRUE(b->produce(numbered(1)).ready());
    troupe::future<record_metadata> third = b->produce(numbered(2));
    EXPECT_FALSE(third.ready());
    fast->commit({{{"t", 0}, 2}});
    EXPECT_FALSE(third.ready());  // "slow" is still two behind
    slow->commit({{{"t", 0}, 1}});
    ASSERT_TRUE(third.ready());
    EXPECT_EQ(third.get().offset, 2U);

    // A group whose last member leaves holds nobody back: what waited for it goes in.
    troupe::future<record_metadata> fourth = b->produce(numbered(3));
    EXPECT_FALSE(fourth.ready());
    slow->close();
    ASSERT_TRUE(fourth.ready());
    EXPECT_EQ(fourth.get().offset, 3U);
}

TEST(Backlog, ATopicNobodyReadsAndABrokerWithoutABoundHoldNothingBack) {
    auto bounded = make_embedded_broker({.max_backlog = 2});
    bounded->create_topic("t", 1);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(bounded->produce(numbered(i)).ready()) << i;  // records wait for a later reader
    }
    auto unbounded = make_embedded_broker({.max_backlog = 0});
    unbounded->create_topic("t", 1);
    auto c = unbounded->subscribe("g", {"t"});
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(unbounded->produce(numbered(i)).ready()) << i;
    }
    // A new group of the bounded topic reads from the start: it is ten behind, so a producer waits.
    auto late = bounded->subscribe("late", {"t"});
    troupe::future<record_metadata> next = bounded->produce(numbered(10));
    EXPECT_FALSE(next.ready());
    late->commit({{{"t", 0}, 9}});
    ASSERT_TRUE(next.ready());
    EXPECT_EQ(next.get().offset, 10U);
}

TEST(Backlog, PastTheTimeoutAPartitionOverflowsUntilItsReadersCatchUp) {
    auto b = make_embedded_broker({.max_backlog = 2, .backlog_timeout = 1ms});
    b->create_topic("t", 1);
    auto c = b->subscribe("stuck", {"t"});
    ASSERT_TRUE(b->produce(numbered(0)).ready());
    ASSERT_TRUE(b->produce(numbered(1)).ready());
    // The group never commits: the held record goes in once it has waited 1 ms (the broker's
    // thread lets it), and from then on records go in at once.
    EXPECT_EQ(b->produce(numbered(2)).get(10s).offset, 2U);
    ASSERT_TRUE(b->produce(numbered(3)).ready());
    // Its readers catch up: the bound is back, counted from their commit. (That the next record
    // is held again is not checked: 1 ms later the timeout would let it in anyway.)
    c->commit({{{"t", 0}, 4}});
    ASSERT_TRUE(b->produce(numbered(4)).ready());
    ASSERT_TRUE(b->produce(numbered(5)).ready());
    EXPECT_EQ(b->produce(numbered(6)).get(10s).offset, 6U);
}

TEST(Backlog, ProduceSoonWaitsForRoomOnAThreadOfItsOwn) {
    auto b = make_embedded_broker({.max_backlog = 2});
    b->create_topic("t", 1);
    auto c = b->subscribe("g", {"t"});
    std::atomic<bool> done{false};
    std::thread producer([&] {
        for (int i = 0; i < 5; ++i) {
            b->produce_soon(numbered(i));
        }
        done = true;
    });
    // Reads and commits as it goes: the producer can only ever be two ahead of the commit.
    std::vector<std::string> read;
    std::uint64_t committed = 0;
    while (read.size() < 5) {
        for (const auto& r : c->fetch(16).get()) {
            EXPECT_LE(r->offset, committed + 1);  // nothing went in past the bound
            read.push_back(text_of(r->value));
            EXPECT_FALSE(done && read.size() < 4);  // the producer waits while it would pass the bound
            committed = r->offset + 1;
            c->commit({{{"t", 0}, committed}});
        }
    }
    producer.join();
    EXPECT_TRUE(done);
    EXPECT_EQ(read, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
}

TEST(Backlog, ProduceWaitsOnAThreadOfItsOwnOnceTheHeldRecordsReachTheBound) {
    // Bound 2, a group that never commits: two records go in and two are held back, their
    // produce() returning at once. The fifth would make three held back, so produce() waits
    // until its record is in, which here only the backlog timeout brings about: it returns
    // with its future complete, after the two before it.
    auto b = make_embedded_broker({.max_backlog = 2, .backlog_timeout = 200ms});
    b->create_topic("t", 1);
    auto c = b->subscribe("stuck", {"t"});
    std::vector<troupe::future<record_metadata>> sent;
    for (int i = 0; i < 4; ++i) {
        sent.push_back(b->produce(numbered(i)));
    }
    EXPECT_TRUE(sent[1].ready());
    EXPECT_FALSE(sent[2].ready());
    EXPECT_FALSE(sent[3].ready());
    sent.push_back(b->produce(numbered(4)));
    ASSERT_TRUE(sent[4].ready());  // it returned once its record was in
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(sent[i].ready()) << i;
        EXPECT_EQ(sent[i].get().offset, static_cast<std::uint64_t>(i));
    }
}

TEST(Backlog, AnAgentCommitsEveryCommitEveryRecords) {
    app a{"every",
          {.commit_interval = std::chrono::hours(1), .commit_every = 100, .broker_instance = make_embedded_broker()}};
    auto& topic = a.topic<std::string, int>("numbers", {.partitions = 1});
    auto& counting = a.agent("counting", topic, [](stream<std::string, int>& s) -> troupe::task<void> {
        while (co_await s.next()) {}
    });
    a.start();
    for (int i = 0; i < 250; ++i) {
        topic.send_soon(i);
    }
    ASSERT_TRUE(counting.when_finished(250).wait_for(60s));
    // The interval is an hour: the commits are the ones at the 100th and the 200th record.
    EXPECT_EQ(a.broker().committed("every-counting", {"numbers", 0}), 200U);
    a.stop();
    EXPECT_EQ(a.broker().committed("every-counting", {"numbers", 0}), 250U);  // and at the stop
}

TEST(Backlog, ProducersThatOutrunAnAgentAreHeldBackAndNothingIsLost) {
    // The agent waits at a gate on its first value and has committed nothing: of 512 values
    // sent, the broker takes 256 (its bound) and holds the others back in order (as many as
    // it holds back before a producer's send() waits). Once the gate opens the agent reads
    // them all, committing every 32, and the log it reads never holds more than the bound and
    // one chunk (256 records) that a commit has not freed yet.
    auto b = make_embedded_broker({.max_backlog = 256});
    app a{"outrun", {.commit_every = 32, .fetch_batch = 16, .broker_instance = b}};
    auto& topic = a.topic<std::string, int>("numbers", {.partitions = 1});
    troupe::promise<void> gate;
    std::atomic<long> sum{0};
    std::atomic<std::uint64_t> most_held{0};
    auto& slow = a.agent("slow", topic, [&](stream<std::string, int>& s) -> troupe::task<void> {
        troupe::future<void> opened = gate.get_future();
        co_await opened;
        while (std::optional<int> v = co_await s.next()) {
            sum += *v;
            const std::uint64_t held = b->end_offset({"numbers", 0}) - b->start_offset({"numbers", 0});
            most_held = std::max(most_held.load(), held);
        }
    });
    a.start();
    constexpr int n = 512;
    std::vector<troupe::future<record_metadata>> sent;
    for (int i = 1; i <= n; ++i) {
        sent.push_back(topic.send(i));
    }
    EXPECT_EQ(std::count_if(sent.begin(), sent.end(), [](const auto& f) { return f.ready(); }), 256);
    EXPECT_EQ(b->end_offset({"numbers", 0}), 256U);
    gate.set_value();
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(sent[i].get(60s).offset, static_cast<std::uint64_t>(i));
    }
    ASSERT_TRUE(slow.when_finished(n).wait_for(60s));
    a.stop();
    EXPECT_EQ(sum.load(), static_cast<long>(n) * (n + 1) / 2);
    EXPECT_LE(most_held.load(), 256U + 256U);
    EXPECT_EQ(b->committed("outrun-slow", {"numbers", 0}), static_cast<std::uint64_t>(n));
}

TEST(Backlog, AnAgentThatOutrunsItsReaderWaitsBeforeItsNextValueWithoutBlockingItsThread) {
    // An agent forwards with send_soon() to a topic bounded at 4 whose only reader waits at a
    // gate. send_soon() never blocks an actor's thread: the broker takes 4 records and holds
    // the next ones back, and once one is held with 4 held before it (the 9th), the agent
    // waits before its next value instead, 3 values left in its own topic (which the bound
    // of 4 lets this thread send: the relay has committed 9). On a system of one worker,
    // another agent goes on meanwhile: the thread is free. Once the gate opens, every value
    // arrives, in order.
    troupe::system one_worker({.scheduler = {.workers = 1}});
    auto b = make_embedded_broker({.max_backlog = 4});
    app a{"relay", {.commit_every = 1, .system = &one_worker, .broker_instance = b}};
    auto& in = a.topic<std::string, int>("in", {.partitions = 1});
    auto& out = a.topic<std::string, int>("out", {.partitions = 1});
    auto& other = a.topic<std::string, int>("other", {.partitions = 1});
    troupe::promise<void> gate;
    std::vector<int> got;
    auto& relay = a.agent("relay", in, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            out.send_soon(*v);
        }
    });
    auto& last = a.agent("last", out, [&](stream<std::string, int>& s) -> troupe::task<void> {
        troupe::future<void> opened = gate.get_future();
        co_await opened;
        while (std::optional<int> v = co_await s.next()) {
            got.push_back(*v);
        }
    });
    auto& counting = a.agent("counting", other, [](stream<std::string, int>& s) -> troupe::task<void> {
        while (co_await s.next()) {}
    });
    a.start();
    constexpr int n = 12;
    for (int i = 1; i <= n; ++i) {
        in.send_soon(i);
    }
    ASSERT_TRUE(relay.when_finished(9).wait_for(60s));
    for (int i = 0; i < 100; ++i) {
        other.send_soon(i);
    }
    ASSERT_TRUE(counting.when_finished(100).wait_for(60s));  // the one worker is not blocked
    EXPECT_EQ(relay.finished(), 9U);                         // the relay waits for room
    EXPECT_EQ(b->end_offset({"out", 0}), 4U);                // and 5 are held back
    gate.set_value();
    ASSERT_TRUE(last.when_finished(n).wait_for(60s));
    a.stop();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(got[i], i + 1);
    }
}

TEST(Backlog, WhatAnAgentSendsIntoAFullTopicStaysBoundedAndArrives) {
    // 2,000 values through an agent that sends each on with send() and drops the future, into
    // a topic bounded at 64 read by a slow agent (it commits every 10 values): the records held
    // back never pass the bound and what one value sends, and all of them arrive.
    auto b = make_embedded_broker({.max_backlog = 64});
    app a{"bounded", {.commit_every = 10, .fetch_batch = 8, .broker_instance = b}};
    auto& in = a.topic<std::string, int>("in", {.partitions = 1});
    auto& out = a.topic<std::string, int>("out", {.partitions = 1});
    std::atomic<std::uint64_t> most_ahead{0};  // sent by the relay and not yet in the log, at most
    std::atomic<long> sum{0};
    auto& relay = a.agent("relay", in, [&](stream<std::string, int>& s) -> troupe::task<void> {
        std::uint64_t sent = 0;
        while (std::optional<int> v = co_await s.next()) {
            (void)out.send(*v);  // its future dropped
            ++sent;
            most_ahead = std::max(most_ahead.load(), sent - b->end_offset({"out", 0}));
        }
    });
    auto& slow = a.agent("slow", out, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            sum += *v;
        }
    });
    a.start();
    constexpr int n = 2000;
    for (int i = 1; i <= n; ++i) {
        in.send_soon(i);
    }
    ASSERT_TRUE(slow.when_finished(n).wait_for(60s));
    ASSERT_TRUE(relay.when_finished(n).wait_for(60s));
    a.stop();
    EXPECT_EQ(sum.load(), static_cast<long>(n) * (n + 1) / 2);
    EXPECT_LE(most_ahead.load(), 64U + 1U);  // held back: at most the bound and the one past it
}

TEST(Backlog, AnAgentThatSendsIntoAFullTopicItReadsGoesOnAtThePaceOfItsCommits) {
    // An agent reads "countdown" and sends each value but 0 back into it, less one: 20 values
    // of 50 sent in make 1,020 for it to take, into a topic bounded at 64. Its own records are
    // held past the bound, so it waits for room, which only its own commits make: its commit
    // timer's (every 10 ms; it commits nothing on its count), which runs while it waits. It
    // takes all 1,020 values, the backlog timeout (an hour) never reached.
    auto b = make_embedded_broker({.max_backlog = 64, .backlog_timeout = 1h});
    app a{"self", {.commit_interval = 10ms, .commit_every = 1000000, .broker_instance = b}};
    auto& countdown = a.topic<std::string, int>("countdown", {.partitions = 1});
    std::atomic<int> zeros{0};
    auto& counting = a.agent("counting", countdown, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            if (*v > 0) {
                countdown.send_soon(*v - 1);
            } else {
                ++zeros;
            }
        }
    });
    a.start();
    for (int i = 0; i < 20; ++i) {
        countdown.send_soon(50);  // this thread waits for room too
    }
    ASSERT_TRUE(counting.when_finished(20 * 51).wait_for(60s));
    a.stop();
    EXPECT_EQ(zeros.load(), 20);
}

TEST(Backlog, ATopicSinkWaitsForRoomAndDeliversEverythingInOrder) {
    // Values go through a topic sink into a topic bounded at 4 and read one at a time, with a
    // commit after each: the sink keeps waiting for room, and every value arrives in order.
    auto b = make_embedded_broker({.max_backlog = 4});
    app a{"sinking", {.commit_every = 1, .fetch_batch = 1, .broker_instance = b}};
    auto& in = a.topic<std::string, int>("in", {.partitions = 1});
    auto& out = a.topic<std::string, int>("out", {.partitions = 1});
    auto& doubling = a.agent("doubling", in, [](stream<std::string, int>& s) -> troupe::generator<int> {
        while (std::optional<int> v = co_await s.next()) {
            co_yield 2 * *v;
        }
    });
    doubling.sink(out);
    std::vector<int> got;
    auto& last = a.agent("last", out, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            got.push_back(*v);
        }
    });
    a.start();
    constexpr int n = 200;
    for (int i = 0; i < n; ++i) {
        in.send_soon(i);
    }
    ASSERT_TRUE(last.when_finished(n).wait_for(60s));
    a.stop();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(got[i], 2 * i);
    }
}

}  // namespace
