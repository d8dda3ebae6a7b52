#include <troupe/streams/app.hpp>

#include <troupe/async/await.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <ranges>
#include <string>
#include <utility>
#include <vector>

#include "streams/collected.hpp"

// Stream operators and the rest of the app's surface, each test on a broker of its own name:
// events and their acknowledgement, items, enumerate, processors and filters, take, combined
// topics, the app's tasks, streams and timers, replies to another topic, map and join (echo,
// through and group_by: forwarding.test.cpp). Each test stops its app before what its agents
// use goes out of scope.

namespace {

using namespace std::chrono_literals;
using namespace troupe::streams;
using streams_test::collected;

using int_stream = stream<std::string, int>;

TEST(StreamOperators, EventsCarryWhereTheyCameFromAndAnAckComesBeforeMovingOn) {
    app a{"events", {.broker = "memory://ops-events", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    struct seen {
        std::string key;
        int value;
        std::uint64_t offset;
        std::string topic;
        bool acked_before;
        bool acked_after;
        std::string header;
    };
    collected<seen> got(3);
    a.agent("reader", topic, [&](int_stream& s) -> troupe::task<void> {
        auto events = s.events();
        while (std::optional<event<std::string, int>> e = co_await events.next()) {
            const bool before = e->acked();
            if (e->value() == 2) {
                const ack_guard done = e->ack_at_exit();  // acked when the block ends
            } else {
                e->ack();
            }
            const bytes* h = e->header_value("origin");
            got.add({e->key(), e->value(), e->offset(), e->topic(), before, e->acked(),
                     h ? std::string(reinterpret_cast<const char*>(h->data()), h->size()) : ""});
        }
    });
    a.start();
    for (int i = 1; i <= 3; ++i) {
        topic.send(i, {.key = "k" + std::to_string(i), .headers = {{"origin", bytes_of("test")}}}).get();
    }
    const auto values = got.get();
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(values[i].key, "k" + std::to_string(i + 1));
        EXPECT_EQ(values[i].value, static_cast<int>(i + 1));
        EXPECT_EQ(values[i].offset, i);
        EXPECT_EQ(values[i].topic, "numbers");
        EXPECT_FALSE(values[i].acked_before);
        EXPECT_TRUE(values[i].acked_after);
        EXPECT_EQ(values[i].header, "test");
    }
    a.stop();
    EXPECT_EQ(a.broker().committed("events-reader", {"numbers", 0}), 3U);
}

TEST(StreamOperators, AnEventHeldUnackedHoldsTheCommitUntilTheStreamMovesOn) {
    app a{"holding", {.broker = "memory://ops-holding", .topic_partitions = 1, .commit_interval = 1h}};
    auto& topic = a.topic<std::string, int>("numbers");
    troupe::promise<void> second_seen;
    troupe::promise<void> go_on;
    auto proceed = go_on.get_future();
    troupe::promise<std::uint64_t> finished_at_third;
    troupe::streams::agent<std::string, int, void>* reader = nullptr;
    reader = &a.agent("reader", topic, [&](int_stream& s) -> troupe::task<void> {
        auto events = s.events();
        while (std::optional<event<std::string, int>> e = co_await events.next()) {
            if (e->value() == 1) {
                continue;  // not acked by hand: acked when the next is asked for
            }
            if (e->value() == 2) {
                second_seen.set_value();
                co_await proceed;
            } else {
                finished_at_third.set_value(reader->finished());
            }
        }
    });
    a.start();
    topic.send(1).get();
    topic.send(2).get();
    second_seen.get_future().get();
    EXPECT_EQ(reader->finished(), 1U);  // the first is acked by moving on; the second is in flight
    go_on.set_value();
    topic.send(3).get();
    EXPECT_EQ(finished_at_third.get_future().get(), 2U);  // taking the third finished the second
    a.stop();
    EXPECT_GE(a.broker().committed("holding-reader", {"numbers", 0}), 2U);
}

TEST(StreamOperators, ItemsAndEnumerateGiveKeysAndCounts) {
    app a{"items", {.broker = "memory://ops-items", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    collected<std::pair<std::string, int>> items(3);
    collected<std::pair<std::size_t, int>> counted(3);
    a.agent("items", topic, [&](int_stream& s) -> troupe::task<void> {
        auto all = s.items();
        while (auto kv = co_await all.next()) {
            items.add(*kv);
        }
    });
    a.agent("counted", topic, [&](int_stream& s) -> troupe::task<void> {
        auto all = s.enumerate(10);
        while (auto iv = co_await all.next()) {
            counted.add(*iv);
        }
    });
    a.start();
    for (int i = 0; i < 3; ++i) {
        topic.send(i * 7, {.key = "k" + std::to_string(i)}).get();
    }
    EXPECT_EQ(items.get(), (std::vector<std::pair<std::string, int>>{{"k0", 0}, {"k1", 7}, {"k2", 14}}));
    EXPECT_EQ(counted.get(), (std::vector<std::pair<std::size_t, int>>{{10, 0}, {11, 7}, {12, 14}}));
    a.stop();
}

TEST(StreamOperators, ProcessorsRunInOrderAndFiltersAndSkipsDropValuesButAckThem) {
    app a{"processors", {.broker = "memory://ops-processors", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    collected<int> got(4);
    a.agent("proc", topic, [&](int_stream& s) -> troupe::task<void> {
        s.add_processor([](int v) { return v * 10; })
            .add_processor([](int v) -> troupe::task<int> {
                co_await troupe::sleep_for(1ms);
                co_return v + 1;
            })
            .filter([](const int& v) { return v != 31; })
            .add_processor([](int v) {
                if (v == 51) {
                    throw skip();
                }
                return v;
            });
        while (std::optional<int> v = co_await s.next()) {
            got.add(*v);
        }
    });
    a.start();
    for (int i = 1; i <= 6; ++i) {
        topic.send(i).get();  // 11, 21, (31 filtered), 41, (51 skipped), 61
    }
    EXPECT_EQ(got.get(), (std::vector<int>{11, 21, 41, 61}));
    a.stop();
    EXPECT_EQ(a.broker().committed("processors-proc", {"numbers", 0}), 6U);  // the dropped ones too
}

TEST(StreamOperators, TakeGivesFullBatchesAndAPartialOneOnceWithinHasPassed) {
    app a{"take", {.broker = "memory://ops-take", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    collected<std::vector<int>> batches(3);
    std::vector<std::uint64_t> finished_at;  // the agent's: read after the stop
    troupe::streams::agent<std::string, int, void>* agent = nullptr;
    agent = &a.agent("batches", topic, [&](int_stream& s) -> troupe::task<void> {
        auto all = s.take(4, 20ms);
        while (auto batch = co_await all.next()) {
            finished_at.push_back(agent->finished());
            batches.add(*batch);
        }
    });
    for (int i = 0; i < 10; ++i) {
        topic.send(i).get();  // all there before the agent starts: its first fetch takes them all
    }
    a.start();
    const auto got = batches.get();  // 4 + 4, then the last 2 once 20 ms have passed
    EXPECT_EQ(got, (std::vector<std::vector<int>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
    a.stop();
    // A batch is finished when the next one is asked for.
    EXPECT_EQ(finished_at, (std::vector<std::uint64_t>{0, 4, 8}));
    EXPECT_GE(a.broker().committed("take-batches", {"numbers", 0}), 8U);
}

TEST(StreamOperators, CombinedTopicsAllDeliverTheirValues) {
    app a{"combined", {.broker = "memory://ops-combined", .topic_partitions = 2}};
    auto& t1 = a.topic<std::string, int>("one");
    auto& t2 = a.topic<std::string, int>("two");
    auto& t3 = a.topic<std::string, int>("three");
    collected<std::pair<std::string, int>> got(30);
    a.agent("all", t1 & t2 & t3, [&](int_stream& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            got.add({s.event()->topic, *v});
        }
    });
    a.start();
    for (int i = 0; i < 10; ++i) {
        t1.send(i).get();
        t2.send(100 + i).get();
        t3.send(200 + i).get();
    }
    std::map<std::string, std::vector<int>> by_topic;
    for (const auto& [t, v] : got.get()) {
        by_topic[t].push_back(v);
    }
    ASSERT_EQ(by_topic.size(), 3U);
    for (auto& [t, values] : by_topic) {
        std::sort(values.begin(), values.end());
        const int base = t == "one" ? 0 : t == "two" ? 100 : 200;
        for (int i = 0; i < 10; ++i) {
            EXPECT_EQ(values[static_cast<std::size_t>(i)], base + i) << t;
        }
    }
    a.stop();
}

TEST(StreamOperators, AppTasksReadStreamsAndTimersTick) {
    app a{"noactor", {.broker = "memory://ops-tasks", .topic_partitions = 2}};
    auto& topic = a.topic<std::string, int>("noactor");
    auto& s = a.stream(topic);
    collected<int> got(5);
    collected<int> ticks(3);
    a.task([&]() -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            got.add(*v);
        }
    });
    int n = 0;
    a.timer(1ms, [&] { ticks.add(++n); });
    a.start();
    for (int i = 0; i < 5; ++i) {
        topic.send(i).get();
    }
    auto values = got.get();
    std::sort(values.begin(), values.end());
    EXPECT_EQ(values, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(ticks.get(), (std::vector<int>{1, 2, 3}));
    a.stop();
    std::uint64_t committed = 0;
    for (std::uint32_t p = 0; p < 2; ++p) {
        committed += a.broker().committed("noactor-stream-1", {"noactor", p}).value_or(0);
    }
    EXPECT_EQ(committed, 5U);
    a.stop();
}

TEST(StreamOperators, AnAppStreamOfSeveralTopicsGivesTheValuesOfEach) {
    app a{"app-combined", {.broker = "memory://ops-app-combined", .topic_partitions = 1}};
    auto& t1 = a.topic<std::string, int>("one");
    auto& t2 = a.topic<std::string, int>("two");
    auto& s = a.stream(t1 & t2);
    collected<int> got(4);
    a.task([&]() -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            got.add(*v);
        }
    });
    a.start();
    t1.send(1).get();
    t2.send(2).get();
    t1.send(3).get();
    t2.send(4).get();
    auto values = got.get();
    std::sort(values.begin(), values.end());
    EXPECT_EQ(values, (std::vector<int>{1, 2, 3, 4}));
    a.stop();
}

TEST(StreamOperators, ASendWithReplyToAnswersIntoAnotherAgentsTopic) {
    app a{"reply-to", {.broker = "memory://ops-reply-to", .topic_partitions = 1}};
    auto& numbers = a.topic<std::string, int>("numbers");
    auto& results = a.topic<std::string, int>("results");
    auto& doubling = a.agent("double", numbers, [](int_stream& s) -> troupe::generator<int> {
        while (std::optional<int> v = co_await s.next()) {
            co_yield *v * 2;
        }
    });
    collected<std::pair<int, std::string>> got(2);
    a.agent("collect", results, [&](int_stream& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            const bytes* id = detail::header_of(*s.event(), detail::correlation_header);
            got.add({*v, id ? std::string(reinterpret_cast<const char*>(id->data()), id->size()) : ""});
        }
    });
    a.start();
    doubling.send(21, {.reply_to = results.name(), .correlation_id = "the-answer"}).get();
    doubling.send(5, {.reply_to = results.name()}).get();
    const auto replies = got.get();
    EXPECT_EQ(replies[0], (std::pair<int, std::string>{42, "the-answer"}));
    EXPECT_EQ(replies[1].first, 10);
    EXPECT_FALSE(replies[1].second.empty());
    a.stop();
}

troupe::generator<int> squaring(int_stream& s) {
    while (std::optional<int> v = co_await s.next()) {
        co_yield *v** v;
    }
}

TEST(StreamOperators, JoinGivesRepliesInOrderAndKvjoinSendsTheKeys) {
    app a{"join", {.broker = "memory://ops-join", .topic_partitions = 4}};
    auto& topic = a.topic<std::string, int>("numbers");
    auto& pow2 = a.agent("pow2", topic, squaring, {.concurrency = 3});
    a.start();
    EXPECT_EQ(pow2.join(std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}, 10s).get(),
              (std::vector<int>{1, 4, 9, 16, 25, 36, 49, 64}));
    const std::vector<std::pair<std::string, int>> pairs{{"a", 3}, {"b", 4}};
    EXPECT_EQ(pow2.kvjoin(pairs, 10s).get(), (std::vector<int>{9, 16}));
    EXPECT_EQ(pow2.join(std::vector<int>{}, 10s).get(), std::vector<int>{});
    a.stop();
}

TEST(StreamOperators, MapYieldsEveryReplyAndWorksOnEndlessInput) {
    app a{"map", {.broker = "memory://ops-map", .topic_partitions = 4}};
    auto& topic = a.topic<std::string, int>("numbers");
    auto& pow2 = a.agent("pow2", topic, squaring, {.concurrency = 2});
    troupe::promise<std::vector<int>> mapped;
    troupe::promise<std::vector<int>> endless;
    troupe::promise<std::vector<int>> keyed;
    a.task([&]() -> troupe::task<void> {
        std::vector<int> got;
        auto replies = pow2.map(std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}, 10s);
        while (std::optional<int> r = co_await replies.next()) {
            got.push_back(*r);
        }
        mapped.set_value(std::move(got));

        got.clear();
        auto more = pow2.map(std::views::iota(1), 10s, 4);  // endless: take the first 20
        while (std::optional<int> r = co_await more.next()) {
            got.push_back(*r);
            if (got.size() == 20) {
                break;
            }
        }
        endless.set_value(std::move(got));

        got.clear();
        const std::vector<std::pair<std::string, int>> pairs{{"x", 5}, {"y", 6}};
        auto kv = pow2.kvmap(pairs, 10s);
        while (std::optional<int> r = co_await kv.next()) {
            got.push_back(*r);
        }
        keyed.set_value(std::move(got));
    });
    a.start();
    auto got = mapped.get_future().get();
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{1, 4, 9, 16, 25, 36, 49, 64}));
    got = endless.get_future().get();
    ASSERT_EQ(got.size(), 20U);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(std::unique(got.begin(), got.end()), got.end());
    for (int r : got) {
        int root = 1;
        while (root * root < r) {
            ++root;
        }
        EXPECT_EQ(root * root, r);
        EXPECT_LE(root, 23);  // at most 4 asks wait at once: the first 20 replies answer the first 23 values
    }
    got = keyed.get_future().get();
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{25, 36}));
    a.stop();
}

TEST(StreamOperators, AMapWhoseRepliesDoNotComeThrowsTimeout) {
    app a{"map-timeout", {.broker = "memory://ops-map-timeout", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    auto& silent = a.agent("silent", topic, [](int_stream& s) -> troupe::generator<int> {
        while (std::optional<int> v = co_await s.next()) {
            if (*v < 0) {
                co_yield *v;  // never, here
            }
        }
    });
    troupe::promise<std::string> why;
    a.task([&]() -> troupe::task<void> {
        try {
            auto replies = silent.map(std::vector<int>{1, 2}, 20ms);
            while (co_await replies.next()) {}
            why.set_value("no error");
        } catch (const troupe::timeout& e) {
            why.set_value(e.what());
        }
    });
    a.start();
    EXPECT_EQ(why.get_future().get(), "streams: ask of agent 'silent': no reply within 20 ms");
    a.stop();
}

}  // namespace
