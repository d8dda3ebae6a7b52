#include <troupe/streams/app.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "streams/collected.hpp"

// The operators that send a stream's values on to other topics, each test on a broker of its
// own name: echo (to topics, or by name), through (to a topic, or by name; the rules of a
// forwarding stream) and group_by (repartitioning by a field or a function). Each test stops
// its app before what its agents use goes out of scope.

namespace forwarding_test {

struct withdrawal {
    std::string user;
    std::string country;
    double amount = 0;
};
TROUPE_RECORD(withdrawal, user, country, amount);

}  // namespace forwarding_test

namespace {

using namespace troupe::streams;
using forwarding_test::withdrawal;
using streams_test::collected;

using int_stream = stream<std::string, int>;

TEST(StreamOperators, EchoCopiesEveryValueToOtherTopics) {
    app a{"echo", {.broker = "memory://ops-echo", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    auto& copy1 = a.topic<std::string, int>("copy-1");
    auto& copy2 = a.topic<std::string, int>("copy-2", {.value_serializer = serializer::msgpack});
    collected<int> seen(3);
    collected<int> copied(6);
    a.agent("echo", topic, [&](int_stream& s) -> troupe::task<void> {
        s.echo(copy1, copy2);
        while (std::optional<int> v = co_await s.next()) {
            seen.add(*v);
        }
    });
    a.agent("copies", copy1 & copy2, [&](int_stream& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            copied.add(*v);
        }
    });
    a.start();
    for (int i = 1; i <= 3; ++i) {
        topic.send(i).get();
    }
    EXPECT_EQ(seen.get(), (std::vector<int>{1, 2, 3}));
    auto both = copied.get();
    std::sort(both.begin(), both.end());
    EXPECT_EQ(both, (std::vector<int>{1, 1, 2, 2, 3, 3}));
    a.stop();
}

TEST(StreamOperators, EchoToATopicByNameMakesItAndCopiesEveryValue) {
    // Faust's echo("name"): the topic of that name is made with the stream's types and codecs
    // (msgpack here, the source's), next to a topic given as an object.
    app a{"echo-named", {.broker = "memory://ops-echo-named", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers", {.value_serializer = serializer::msgpack});
    auto& copy1 = a.topic<std::string, int>("copy-1");
    collected<int> copied(6);
    a.agent("echo", topic, [&](int_stream& s) -> troupe::task<void> {
        s.echo("copy-by-name", copy1);
        while (co_await s.next()) {}
    });
    EXPECT_FALSE(a.broker().partitions("copy-by-name").has_value());  // nothing has made it yet
    auto& by_name = a.topic<std::string, int>("copy-by-name", {.value_serializer = serializer::msgpack});
    a.agent("copies", copy1 & by_name, [&](int_stream& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            copied.add(*v);
        }
    });
    a.start();
    for (int i = 1; i <= 3; ++i) {
        topic.send(i).get();
    }
    auto both = copied.get();
    std::sort(both.begin(), both.end());
    EXPECT_EQ(both, (std::vector<int>{1, 1, 2, 2, 3, 3}));
    EXPECT_EQ(a.broker().end_offset({"copy-by-name", 0}), 3U);
    a.stop();
}

TEST(StreamOperators, ThroughForwardsEveryRecordAndReadsTheOtherTopic) {
    app a{"through", {.broker = "memory://ops-through", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    auto& middle = a.topic<std::string, int>("middle");
    collected<std::pair<std::string, int>> got(5);
    auto& agent = a.agent("fwd", topic, [&](int_stream& s) -> troupe::task<void> {
        auto& after = s.filter([](const int& v) { return v != 3; }).through(middle);
        while (std::optional<int> v = co_await after.next()) {
            got.add({after.event()->topic, *v});
        }
    });
    a.start();
    for (int i = 1; i <= 6; ++i) {
        topic.send(i, {.key = "k"}).get();
    }
    EXPECT_EQ(got.get(), (std::vector<std::pair<std::string, int>>{
                             {"middle", 1}, {"middle", 2}, {"middle", 4}, {"middle", 5}, {"middle", 6}}));
    EXPECT_EQ(a.broker().end_offset({"middle", 0}), 5U);
    a.stop();
    EXPECT_EQ(a.broker().committed("through-fwd", {"numbers", 0}), 6U);
    EXPECT_EQ(a.broker().committed("through-fwd-middle", {"middle", 0}), 5U);
    EXPECT_EQ(agent.finished(), 5U);
    a.stop();
}

TEST(StreamOperators, ThroughATopicByNameMakesItOrKeepsItsPartitions) {
    // Faust's through("name"): a topic that does not exist is made with the app's
    // topic_partitions; one that exists keeps its own. Keys and values go as they are.
    app a{"through-named", {.broker = "memory://ops-through-named", .topic_partitions = 3}};
    a.broker().create_topic("existing", 2);
    auto& topic = a.topic<std::string, int>("numbers");
    collected<std::pair<std::string, int>> got(8);
    a.agent("fwd", topic, [&](int_stream& s) -> troupe::task<void> {
        auto& after = s.through("made-here");
        while (std::optional<int> v = co_await after.next()) {
            // The key goes as it is.
            got.add({after.event()->topic + (after.event()->key == bytes_of("k") ? "" : " (key lost)"), *v});
        }
    });
    a.agent("fwd2", topic, [&](int_stream& s) -> troupe::task<void> {
        auto& after = s.through("existing");
        while (std::optional<int> v = co_await after.next()) {
            got.add({after.event()->topic, *v});
        }
    });
    a.start();
    for (int i = 1; i <= 4; ++i) {
        topic.send(i, {.key = "k"}).get();
    }
    auto all = got.get();
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<std::pair<std::string, int>>{{"existing", 1},
                                                             {"existing", 2},
                                                             {"existing", 3},
                                                             {"existing", 4},
                                                             {"made-here", 1},
                                                             {"made-here", 2},
                                                             {"made-here", 3},
                                                             {"made-here", 4}}));
    EXPECT_EQ(a.broker().partitions("made-here"), 3U);
    EXPECT_EQ(a.broker().partitions("existing"), 2U);
    a.stop();
}

TEST(StreamOperators, AnOperatorAfterThroughIsAnErrorAndARestartAddsNothingTwice) {
    app a{"after", {.broker = "memory://ops-after", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    auto& middle = a.topic<std::string, int>("middle");
    std::atomic<int> calls{0};
    troupe::promise<std::string> why;
    bool first_run = true;
    bool thrown = false;
    collected<int> got(3);
    a.agent("fwd", topic, [&](int_stream& s) -> troupe::task<void> {
        auto& after = s.add_processor([&](int v) {
                           ++calls;
                           return v;
                       }).through(middle);
        if (first_run) {
            first_run = false;
            try {
                s.filter([](const int&) { return true; });
            } catch (const troupe::error& e) {
                why.set_value(e.what());
            }
        }
        while (std::optional<int> v = co_await after.next()) {
            if (*v == 2 && !thrown) {
                thrown = true;
                throw std::runtime_error("once");  // the function starts again, and adds its processor again
            }
            got.add(*v);
        }
    });
    a.start();
    for (int i = 1; i <= 4; ++i) {
        topic.send(i).get();
    }
    EXPECT_EQ(why.get_future().get(),
              "streams: agent 'fwd': add processors, filters and echoes before through() or group_by(): this stream "
              "forwards to 'middle', and its values go there");
    EXPECT_EQ(got.get(), (std::vector<int>{1, 3, 4}));
    a.stop();
    EXPECT_EQ(calls.load(), 4);  // one processor, not two after the restart
}

TEST(StreamOperators, GroupByRepartitionsSoEachKeyIsReadInOnePartition) {
    app a{"bank", {.broker = "memory://ops-group-by", .topic_partitions = 4}};
    auto& withdrawals = a.topic<std::string, withdrawal>("withdrawals");
    collected<std::pair<std::string, std::uint32_t>> by_user(40);
    collected<std::string> by_country(40);
    a.agent("users", withdrawals, [&](stream<std::string, withdrawal>& s) -> troupe::task<void> {
        auto& grouped = s.group_by(&withdrawal::user);
        while (std::optional<withdrawal> w = co_await grouped.next()) {
            EXPECT_EQ(grouped.key(), w->user);
            by_user.add({w->user, grouped.event()->partition});
        }
    });
    a.agent("countries", withdrawals, [&](stream<std::string, withdrawal>& s) -> troupe::task<void> {
        auto& grouped = s.group_by([](const withdrawal& w) { return w.country; }, "country");
        while (std::optional<withdrawal> w = co_await grouped.next()) {
            by_country.add(grouped.event()->topic);
        }
    });
    a.start();
    const std::vector<std::string> users{"alice", "bob", "carol", "dave", "erin"};
    for (int i = 0; i < 40; ++i) {
        const auto& user = users[static_cast<std::size_t>(i) % users.size()];
        withdrawals.send({user, i % 2 == 0 ? "NO" : "SE", 1.0 + i}).get();  // no key: partitions in turn
    }
    std::map<std::string, std::set<std::uint32_t>> partitions_of;
    for (const auto& [user, p] : by_user.get()) {
        partitions_of[user].insert(p);
    }
    EXPECT_EQ(partitions_of.size(), users.size());
    for (const auto& [user, ps] : partitions_of) {
        EXPECT_EQ(ps.size(), 1U) << user << " was read in more than one partition";
    }
    for (const auto& t : by_country.get()) {
        EXPECT_EQ(t, "bank-countries-country-repartition");
    }
    EXPECT_EQ(*a.broker().partitions("bank-users-user-repartition"), 4U);
    a.stop();
}

TEST(StreamOperators, GroupByWithAFunctionNeedsAName) {
    app a{"unnamed", {.broker = "memory://ops-group-by-name", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    troupe::promise<std::string> why;
    a.agent("g", topic, [&](int_stream& s) -> troupe::task<void> {
        try {
            (void)s.group_by([](const int& v) { return v % 2; });
        } catch (const troupe::error& e) {
            why.set_value(e.what());
        }
        co_return;
    });
    a.start();
    EXPECT_EQ(why.get_future().get(),
              "streams: agent 'g': group_by() with a function needs a name (it names the intermediate topic)");
    a.stop();
}

TEST(StreamOperators, ThroughNeedsConcurrencyOne) {
    app a{"concurrent", {.broker = "memory://ops-through-concurrent", .topic_partitions = 1}};
    auto& topic = a.topic<std::string, int>("numbers");
    auto& other = a.topic<std::string, int>("other");
    collected<std::string> why(2);
    a.agent("t", topic,
            [&](int_stream& s) -> troupe::task<void> {
                try {
                    (void)s.through(other);
                } catch (const troupe::error& e) {
                    why.add(e.what());
                }
                co_return;
            },
            {.concurrency = 2});
    a.start();
    for (const auto& w : why.get()) {
        EXPECT_EQ(
            w, "streams: agent 't': through() and group_by() need concurrency 1 (the forwarded order would be lost)");
    }
    a.stop();
}

}  // namespace
