#include <troupe/streams/app.hpp>

#include <troupe/async/await.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/testing/manual_clock.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <vector>

// Apps on the embedded broker, each test on a broker of its own name: agents answering asks,
// consuming, committing what they finished, skipping bad values, restarting after an exception,
// and feeding their sinks.

namespace app_test {

struct add {
    int a = 0;
    int b = 0;
};
TROUPE_RECORD(add, a, b);

}  // namespace app_test

namespace {

using namespace std::chrono_literals;
using namespace troupe::streams;
using app_test::add;

using add_stream = stream<std::string, add>;

troupe::generator<int> adding(add_stream& s) {
    while (std::optional<add> v = co_await s.next()) {
        co_yield v->a + v->b;
    }
}

/// Completes once `n` values have been counted.
struct countdown {
    explicit countdown(int n) : left(n) {}
    void count() {
        if (left.fetch_sub(1) == 1) {
            done.set_value();
        }
    }
    std::atomic<int> left;
    troupe::promise<void> done;
};

/// What `group` has committed, summed over the partitions of `topic`.
std::uint64_t committed_total(app& a, const std::string& group, const std::string& topic) {
    std::uint64_t total = 0;
    for (std::uint32_t p = 0; p < *a.broker().partitions(topic); ++p) {
        total += a.broker().committed(group, {topic, p}).value_or(0);
    }
    return total;
}

TEST(App, AnAgentAnswersAsks) {
    app a{"adder", {.broker = "memory://app-asks"}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("adding", topic, adding);
    a.start();
    EXPECT_EQ(agent.ask(add{4, 4}, 10s).get(), 8);
    std::vector<troupe::future<int>> replies;
    for (int i = 0; i < 100; ++i) {
        replies.push_back(agent.ask(add{i, 1}, 10s, {.key = "k" + std::to_string(i)}));
    }
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(replies[static_cast<std::size_t>(i)].get(), i + 1);
    }
}

TEST(App, AnAskWithoutAReplyTimesOut) {
    app a{"quiet", {.broker = "memory://app-timeout"}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("evens", topic, [](add_stream& s) -> troupe::generator<int> {
        while (std::optional<add> v = co_await s.next()) {
            if (v->a % 2 == 0) {
                co_yield v->a;  // odd ones get no reply
            }
        }
    });
    a.start();
    try {
        (void)agent.ask(add{1, 0}, 50ms).get();
        FAIL() << "an unanswered ask did not time out";
    } catch (const troupe::timeout& e) {
        EXPECT_STREQ(e.what(), "streams: ask of agent 'evens': no reply within 50 ms");
    }
    EXPECT_EQ(agent.ask(add{2, 0}, 10s).get(), 2);
    EXPECT_EQ(a.pending_asks(), 0U);  // the one that timed out is gone too
}

TEST(App, ARecordOnTheReplyTopicThatAnswersNoAskIsPassedOver) {
    // Replies that name no waiting ask (a correlation id that is not an ask's number, or the
    // number of none waiting) come to the app's reply topic too: it reads past them, and the
    // asks waiting get their own replies.
    app a{"passing-over", {.broker = "memory://app-foreign-replies"}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("adding", topic, adding);
    a.start();
    std::string replies;
    for (const auto& t : a.broker().topics()) {
        if (t.rfind("passing-over-reply-", 0) == 0) {
            replies = t;
        }
    }
    ASSERT_FALSE(replies.empty());
    for (const char* id : {"not-an-ask", "99999", "1x", "", "18446744073709551616"}) {
        agent.send(add{1, 1}, {.reply_to = replies, .correlation_id = id}).get(10s);
    }
    EXPECT_EQ(agent.ask(add{2, 3}, 10s).get(), 5);
    EXPECT_EQ(agent.ask(add{4, 5}, 10s).get(), 9);
    EXPECT_EQ(a.pending_asks(), 0U);
}

TEST(App, AnAskThatCannotBeSentFailsAtOnceAndWaitsForNothing) {
    app a{"unsent", {.broker = "memory://app-unsent", .topic_partitions = 2}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("adding", topic, adding);
    a.start();
    try {
        (void)agent.ask(add{1, 1}, 10s, {.partition = 7U});
        FAIL() << "an ask to a partition that does not exist was sent";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "memory broker: cannot produce to partition 7 of 'adding', which has 2");
    }
    EXPECT_EQ(a.pending_asks(), 0U);
}

TEST(App, WhatAnAgentFinishedIsCommittedWhenItStops) {
    app a{"counter", {.broker = "memory://app-commit", .topic_partitions = 4}};
    auto& topic = a.topic<std::string, add>("numbers");
    countdown seen(500);
    auto& counter = a.agent("count", topic, [&](add_stream& s) -> troupe::task<void> {
        while (co_await s.next()) {
            seen.count();
        }
    });
    EXPECT_EQ(counter.group(), "counter-count");
    for (int i = 0; i < 500; ++i) {
        topic.send(add{i, 0}, {.key = std::to_string(i)}).get();
    }
    a.start();
    seen.done.get_future().get();
    EXPECT_GE(counter.finished(), 499U);  // read while it runs: the last one is finished by its next next()
    a.stop();
    EXPECT_EQ(counter.finished(), 500U);
    EXPECT_EQ(committed_total(a, "counter-count", "numbers"), 500U);
}

TEST(App, AnAgentCommittingEveryIntervalKeepsWhatTheBrokerHoldsBounded) {
    // The agent's commit timer runs on a clock that moves only when the test moves it. Each
    // round sends values, then asks the agent: the reply comes once it has taken every value
    // before the ask. Then one commit interval passes; the commit it wakes is posted to the
    // agent's actor before anything the next round sends, and the actor runs its turns one at a
    // time in that order, so by the next reply the commit is made and its chunks are freed.
    troupe::testing::manual_clock clock;
    troupe::system sys({.timers = &clock});
    constexpr auto interval = 10ms;
    app a{"flat",
          {.broker = "memory://app-retention", .topic_partitions = 1, .commit_interval = interval, .system = &sys}};
    auto& topic = a.topic<std::string, add>("numbers");
    auto& agent = a.agent("adding", topic, adding);  // yields for every value; only asks get the reply
    const topic_partition tp{"numbers", 0};
    broker& b = a.broker();
    a.start();
    constexpr int rounds = 100;
    constexpr std::uint64_t each = 1000;
    std::uint64_t last_ask = 0;  // the offset of the previous round's ask
    for (int r = 0; r < rounds; ++r) {
        for (std::uint64_t i = 0; i < each; ++i) {
            topic.send_soon(add{static_cast<int>(i), 0});
        }
        ASSERT_EQ(agent.ask(add{r, 1}, 10s).get(), r + 1);
        if (r > 0) {
            ASSERT_GE(b.committed(agent.group(), tp).value_or(0), last_ask) << "round " << r;
        }
        last_ask = b.end_offset(tp) - 1;
        // What the last commit left (less than a chunk of 256 before the last ask) and this round.
        ASSERT_LE(b.end_offset(tp) - b.start_offset(tp), 256 + each + 1) << "round " << r;
        clock.advance(interval);
    }
    a.stop();
    EXPECT_EQ(committed_total(a, agent.group(), "numbers"), rounds * (each + 1));
    EXPECT_LT(b.end_offset(tp) - b.start_offset(tp), 256U);
}

TEST(App, TheRepliesToAsksAreFreedOnceRead) {
    app a{"replies", {.broker = "memory://app-replies", .topic_partitions = 1, .fetch_batch = 16}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("adding", topic, adding);
    a.start();
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(agent.ask(add{i, 1}, 10s).get(), i + 1);
    }
    a.stop();  // the reader of replies has ended, its commits made
    std::string replies;
    for (const auto& t : a.broker().topics()) {
        if (t.rfind("replies-reply-", 0) == 0) {
            replies = t;
        }
    }
    ASSERT_FALSE(replies.empty());
    const topic_partition tp{replies, 0};
    EXPECT_EQ(a.broker().end_offset(tp), 1000U);
    // It commits every fetch_batch (16) replies; the broker frees whole chunks of 256 before that.
    EXPECT_LT(a.broker().end_offset(tp) - a.broker().start_offset(tp), 256U + 16U);
}

TEST(App, ValuesSentSoonWhileTheAgentRunsArriveOnceEachAndInOrder) {
    // The agent drains the partition, waits, and is woken by the next send again and again,
    // with batches of any size in between: nothing is lost or taken twice.
    app a{"soon", {.broker = "memory://app-send-soon", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, add>("numbers");
    constexpr int n = 5000;
    std::vector<int> got;  // the agent's; read after stop()
    countdown seen(n);
    auto& counter = a.agent("count", topic, [&](add_stream& s) -> troupe::task<void> {
        while (std::optional<add> v = co_await s.next()) {
            got.push_back(v->a);
            seen.count();
        }
    });
    a.start();
    for (int i = 0; i < n; ++i) {
        topic.send_soon(add{i, 0});
    }
    EXPECT_THROW(topic.send_soon(add{}, {.partition = 1U}), troupe::error);
    seen.done.get_future().get();
    a.stop();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(got[static_cast<std::size_t>(i)], i);
    }
    EXPECT_EQ(committed_total(a, counter.group(), "numbers"), static_cast<std::uint64_t>(n));
}

TEST(App, ConcurrentInstancesTakeEachValueOnceAndCommitAllOfThem) {
    app a{"parallel", {.broker = "memory://app-concurrency", .topic_partitions = 2}};
    auto& topic = a.topic<std::string, add>("work");
    std::mutex lock;
    std::multiset<int> taken;
    countdown seen(300);
    auto& worker = a.agent("work", topic,
                           [&](add_stream& s) -> troupe::task<void> {
                               while (std::optional<add> v = co_await s.next()) {
                                   // Values finish out of order: a longer wait for some.
                                   co_await troupe::sleep_for(std::chrono::microseconds(v->a % 7 == 0 ? 300 : 10));
                                   {
                                       const std::lock_guard guard(lock);
                                       taken.insert(v->a);
                                   }
                                   seen.count();
                               }
                           },
                           {.concurrency = 4});
    for (int i = 0; i < 300; ++i) {
        topic.send(add{i, 0}).get();
    }
    a.start();
    seen.done.get_future().get();
    a.stop();
    EXPECT_EQ(taken.size(), 300U);
    for (int i = 0; i < 300; ++i) {
        EXPECT_EQ(taken.count(i), 1U) << i;
    }
    EXPECT_EQ(committed_total(a, worker.group(), "work"), 300U);
}

TEST(App, ABadValueIsSkippedAndTheAgentGoesOn) {
    app a{"strict", {.broker = "memory://app-bad-value", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("adding", topic, adding);
    a.broker().produce({.topic = "adding", .value = bytes_of(R"({"a":"one","b":2})")}).get();
    a.start();
    EXPECT_EQ(agent.ask(add{1, 2}, 10s).get(), 3);
    a.stop();
    EXPECT_EQ(committed_total(a, agent.group(), "adding"), 2U);  // the bad value is finished too
}

TEST(App, ABadValueCanGoToADeadLetterTopicWithWhyAndWhereFrom) {
    app a{"letters", {.broker = "memory://app-dead-letter", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("adding", topic, adding, {.on_bad_value = bad_value::dead_letter});
    a.broker().produce({.topic = "adding", .key = bytes_of("k"), .value = bytes_of(R"({"a":"one","b":2})")}).get();
    a.start();
    EXPECT_EQ(agent.ask(add{1, 2}, 10s).get(), 3);
    a.stop();
    EXPECT_EQ(committed_total(a, agent.group(), "adding"), 2U);
    const std::string dead = "letters-adding-dead-letter";
    ASSERT_EQ(a.broker().end_offset({dead, 0}), 1U);
    auto reader = a.broker().subscribe("inspector", {dead});
    const auto letters = reader->fetch(10).get();
    ASSERT_EQ(letters.size(), 1U);
    const record& letter = *letters[0];
    EXPECT_EQ(letter.key, bytes_of("k"));
    EXPECT_EQ(letter.value, bytes_of(R"({"a":"one","b":2})"));
    auto header = [&](std::string_view name) {
        const bytes* b = detail::header_of(letter, name);
        return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("(none)");
    };
    EXPECT_EQ(header("troupe-error"), "$.a: expected an integer, got a string");
    EXPECT_EQ(header("troupe-topic"), "adding");
    EXPECT_EQ(header("troupe-partition"), "0");
    EXPECT_EQ(header("troupe-offset"), "0");
}

TEST(App, ABadValueCanStopItsPartitionAndOnlyThat) {
    app a{"stopping", {.broker = "memory://app-stop-partition", .topic_partitions = 2}};
    auto& topic = a.topic<std::string, add>("adding");
    countdown seen(3);
    std::atomic<int> sum{0};
    a.agent("adding", topic,
            [&](add_stream& s) -> troupe::task<void> {
                while (std::optional<add> v = co_await s.next()) {
                    sum += v->a;
                    seen.count();
                }
            },
            {.on_bad_value = bad_value::stop_partition});
    auto& broker = a.broker();
    broker.produce({.topic = "adding", .partition = 0U, .value = bytes_of(R"({"a":1,"b":0})")}).get();
    broker.produce({.topic = "adding", .partition = 0U, .value = bytes_of("not json")}).get();
    broker.produce({.topic = "adding", .partition = 0U, .value = bytes_of(R"({"a":100,"b":0})")}).get();
    broker.produce({.topic = "adding", .partition = 1U, .value = bytes_of(R"({"a":10,"b":0})")}).get();
    a.start();
    broker.produce({.topic = "adding", .partition = 1U, .value = bytes_of(R"({"a":20,"b":0})")}).get();
    seen.done.get_future().get();  // 1 (partition 0), 10 and 20 (partition 1)
    a.stop();
    EXPECT_EQ(sum.load(), 31);  // 100 comes after the bad value: its partition stopped before it
    EXPECT_EQ(broker.committed("stopping-adding", {"adding", 0}), 1U);  // just before the bad value
    EXPECT_EQ(broker.committed("stopping-adding", {"adding", 1}), 2U);
}

TEST(App, AnAgentThatThrowsStartsAgainOnTheNextValue) {
    app a{"fragile", {.broker = "memory://app-throws", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& agent = a.agent("fragile", topic, [](add_stream& s) -> troupe::generator<int> {
        while (std::optional<add> v = co_await s.next()) {
            if (v->a < 0) {
                throw std::invalid_argument("negative");
            }
            co_yield v->a;
        }
    });
    a.start();
    topic.send(add{-1, 0}).get();
    EXPECT_EQ(agent.ask(add{5, 0}, 10s).get(), 5);
    a.stop();
    EXPECT_EQ(committed_total(a, agent.group(), "adding"), 2U);
}

TEST(App, EveryAgentOfATopicSeesEveryValue) {
    app a{"fanout", {.broker = "memory://app-fanout", .topic_partitions = 3}};
    auto& topic = a.topic<std::string, add>("numbers");
    countdown seen(2 * 30);
    std::atomic<int> first{0};
    std::atomic<int> second{0};
    auto& one = a.agent("one", topic, [&](add_stream& s) -> troupe::task<void> {
        while (co_await s.next()) {
            ++first;
            seen.count();
        }
    });
    auto& two = a.agent("two", topic, [&](add_stream& s) -> troupe::task<void> {
        while (co_await s.next()) {
            ++second;
            seen.count();
        }
    });
    a.start();
    for (int i = 0; i < 30; ++i) {
        topic.send(add{i, 0}, {.key = std::to_string(i)}).get();
    }
    seen.done.get_future().get();
    a.stop();
    EXPECT_EQ(first.load(), 30);
    EXPECT_EQ(second.load(), 30);
    EXPECT_EQ(committed_total(a, one.group(), "numbers"), 30U);
    EXPECT_EQ(committed_total(a, two.group(), "numbers"), 30U);
}

TEST(App, SinksGetWhatTheAgentYields) {
    app a{"sinks", {.broker = "memory://app-sinks", .topic_partitions = 1}};
    auto& numbers = a.topic<std::string, add>("numbers");
    auto& log = a.topic<std::string, int>("log");
    std::mutex lock;
    std::vector<int> by_function;
    std::vector<int> by_coroutine;
    std::vector<int> by_topic;
    countdown delivered(6);  // three through the coroutine sink, three through the topic
    auto& sums = a.agent("sums", numbers, adding);
    sums.sink([&](const int& v) {
        const std::lock_guard guard(lock);
        by_function.push_back(v);
    });
    sums.sink([&](const int& v) -> troupe::task<void> {
        co_await troupe::sleep_for(1ms);
        {
            const std::lock_guard guard(lock);
            by_coroutine.push_back(v);
        }
        delivered.count();
    });
    sums.sink(log);
    a.agent("log", log, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            {
                const std::lock_guard guard(lock);
                by_topic.push_back(*v);
            }
            delivered.count();
        }
    });
    a.start();
    for (int i = 1; i <= 3; ++i) {
        numbers.send(add{i, 10}).get();
    }
    delivered.done.get_future().get();
    a.stop();
    EXPECT_EQ(by_function, (std::vector<int>{11, 12, 13}));
    EXPECT_EQ(by_coroutine, (std::vector<int>{11, 12, 13}));
    EXPECT_EQ(by_topic, (std::vector<int>{11, 12, 13}));
}

TEST(App, AnAgentWithoutATopicGetsOneNamedAfterIt) {
    app a{"named", {.broker = "memory://app-own-topic"}};
    auto& agent = a.agent<std::string, add>("adder", adding);
    EXPECT_EQ(agent.source().name(), "named-adder");
    a.start();
    EXPECT_EQ(agent.ask(add{20, 22}, 10s).get(), 42);
}

TEST(App, DeclaringAfterStartIsAnError) {
    app a{"late", {.broker = "memory://app-late"}};
    a.start();
    EXPECT_THROW((a.topic<std::string, add>("t")), troupe::error);
    EXPECT_THROW(app("", {.broker = "memory://app-late"}), troupe::error);
}

TEST(App, ASlowAgentHoldsBackOnlyItselfAndLosesNothing) {
    // Two agents over one topic, the slow one stuck on its first value: the fast one finishes
    // everything meanwhile (each agent reads in its own group, through a buffer of its own of at
    // most fetch_batch records), and once the slow one goes on it finishes everything too.
    app a{"flow", {.broker = "memory://app-flow", .topic_partitions = 4, .fetch_batch = 16}};
    auto& topic = a.topic<std::string, int>("numbers");
    troupe::promise<void> gate;
    std::atomic<long> slow_sum{0};
    std::atomic<long> fast_sum{0};
    auto& slow = a.agent("slow", topic, [&](stream<std::string, int>& s) -> troupe::task<void> {
        troupe::future<void> opened = gate.get_future();
        co_await opened;
        while (std::optional<int> v = co_await s.next()) {
            slow_sum += *v;
        }
    });
    auto& fast = a.agent("fast", topic, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            fast_sum += *v;
        }
    });
    a.start();
    constexpr int n = 2000;
    for (int i = 1; i <= n; ++i) {
        topic.send_soon(i, {.key = "k" + std::to_string(i % 64)});
    }
    constexpr long total = static_cast<long>(n) * (n + 1) / 2;
    ASSERT_TRUE(fast.when_finished(n).wait_for(60s));
    EXPECT_EQ(fast_sum.load(), total);
    EXPECT_EQ(slow.finished(), 0U);  // still at the gate
    gate.set_value();
    ASSERT_TRUE(slow.when_finished(n).wait_for(60s));
    a.stop();
    EXPECT_EQ(slow_sum.load(), total);
    EXPECT_EQ(committed_total(a, "flow-slow", "numbers"), static_cast<std::uint64_t>(n));
    EXPECT_EQ(committed_total(a, "flow-fast", "numbers"), static_cast<std::uint64_t>(n));
}

TEST(App, ATopicOfSeveralNamesIsReadAsOneStream) {
    app a{"names", {.broker = "memory://app-names"}};
    auto both = a.topics<std::string, int>({"left", "right"}, {.partitions = 2});
    ASSERT_EQ(both.topics.size(), 2U);
    EXPECT_EQ(both.topics[1]->name(), "right");
    EXPECT_EQ(both.topics[1]->partitions(), 2U);
    countdown seen(4);
    std::atomic<int> sum{0};
    a.agent("sum", both, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            sum += *v;
            seen.count();
        }
    });
    a.start();
    both.topics[0]->send(1).get();
    both.topics[1]->send(10).get();
    both.topics[0]->send(100).get();
    both.topics[1]->send(1000).get();
    ASSERT_TRUE(seen.done.get_future().wait_for(60s));
    a.stop();
    EXPECT_EQ(sum.load(), 1111);
    EXPECT_THROW((a.topics<std::string, int>({})), troupe::error);
}

TEST(App, TopicsOfSeveralNamesNeedDistinctNames) {
    app a{"names-twice", {.broker = "memory://app-names-twice"}};
    try {
        (void)a.topics<std::string, int>({"x", "x"});
        FAIL() << "a name given twice was accepted";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "streams: app 'names-twice': topics() was given 'x' twice");
    }
}

}  // namespace
