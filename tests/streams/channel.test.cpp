#include <troupe/streams/app.hpp>

#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

// Channels: topics of the app's process only. Their values travel as objects (never encoded),
// every agent or stream of a channel gets every value, asks work as on a topic, and the app's
// broker never sees them; a stream forwards from a channel to a topic (the value is encoded
// then) and groups a channel's values by key.

namespace channel_test {

struct order {
    std::string account;
    int amount = 0;
};
TROUPE_RECORD(order, account, amount);

}  // namespace channel_test

namespace {

using namespace std::chrono_literals;
using namespace troupe::streams;
using channel_test::order;

/// Values gathered from agents, and a wait for the n-th.
template <class T>
class gathered {
public:
    void add(T v) {
        std::vector<troupe::promise<void>> reached;
        {
            const std::lock_guard guard(lock_);
            values_.push_back(std::move(v));
            std::erase_if(waiters_, [&](auto& w) {
                if (w.first > values_.size()) {
                    return false;
                }
                reached.push_back(std::move(w.second));
                return true;
            });
        }
        for (auto& p : reached) {
            p.set_value();
        }
    }
    bool wait_for_count(std::size_t n) {
        troupe::future<void> f;
        {
            const std::lock_guard guard(lock_);
            troupe::promise<void> p;
            f = p.get_future();
            if (values_.size() >= n) {
                p.set_value();
            } else {
                waiters_.emplace_back(n, std::move(p));
            }
        }
        return f.wait_for(60s);
    }
    std::vector<T> values() const {
        const std::lock_guard guard(lock_);
        return values_;
    }

private:
    mutable std::mutex lock_;
    std::vector<T> values_;
    std::vector<std::pair<std::size_t, troupe::promise<void>>> waiters_;
};

TEST(Channel, EveryAgentOfAChannelGetsEveryValueAsAnObjectAndTheBrokerSeesNone) {
    app a{"chan", {.broker = "memory://channel-fanout"}};
    auto& orders = a.channel<std::string, order>();
    EXPECT_EQ(orders.name(), "chan-channel-1");
    EXPECT_TRUE(orders.in_process());
    EXPECT_EQ(orders.partitions(), 1U);
    gathered<int> billed;
    gathered<std::string> audited;
    std::atomic<bool> any_bytes{false};
    a.agent("bill", orders, [&](stream<std::string, order>& s) -> troupe::task<void> {
        while (std::optional<order> o = co_await s.next()) {
            if (!s.event()->value.empty() || !s.event()->object) {
                any_bytes = true;
            }
            billed.add(o->amount);
        }
    });
    a.agent("audit", orders, [&](stream<std::string, order>& s) -> troupe::task<void> {
        while (std::optional<order> o = co_await s.next()) {
            audited.add(o->account);
        }
    });
    a.start();
    for (int i = 0; i < 50; ++i) {
        orders.send(order{"acc-" + std::to_string(i), i}).get();
    }
    ASSERT_TRUE(billed.wait_for_count(50));
    ASSERT_TRUE(audited.wait_for_count(50));
    a.stop();
    std::vector<int> expected;
    for (int i = 0; i < 50; ++i) {
        expected.push_back(i);
    }
    EXPECT_EQ(billed.values(), expected);  // one partition: in order
    EXPECT_EQ(audited.values().size(), 50U);
    EXPECT_FALSE(any_bytes);
    for (const std::string& t : a.broker().topics()) {
        EXPECT_EQ(t.find("channel"), std::string::npos) << t;  // the app's broker has no channel
    }
}

TEST(Channel, AnAgentOverAChannelAnswersAsks) {
    app a{"chan-ask", {.broker = "memory://channel-ask"}};
    auto& numbers = a.channel<std::string, int>("numbers");
    auto& doubler = a.agent("double", numbers, [](stream<std::string, int>& s) -> troupe::generator<int> {
        while (std::optional<int> v = co_await s.next()) {
            co_yield 2 * *v;
        }
    });
    a.start();
    EXPECT_EQ(doubler.ask(21, 10s).get(), 42);
    std::vector<troupe::future<int>> replies;
    for (int i = 0; i < 100; ++i) {
        replies.push_back(doubler.ask(i, 10s));
    }
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(replies[static_cast<std::size_t>(i)].get(), 2 * i);
    }
}

TEST(Channel, AStreamForwardsAChannelIntoATopicAndGroupsItByKey) {
    app a{"chan-fwd", {.broker = "memory://channel-forward"}};
    auto& incoming = a.channel<std::string, order>("incoming");
    auto& stored = a.topic<std::string, order>("stored", {.partitions = 2});
    gathered<std::string> by_account;
    a.agent("store", incoming, [&](stream<std::string, order>& s) -> troupe::task<void> {
        auto& grouped = s.group_by(&order::account);  // a repartition channel beside it
        auto& out = grouped.through(stored);          // and then the app's broker
        while (std::optional<order> o = co_await out.next()) {
            by_account.add(out.key() + ":" + std::to_string(o->amount));
        }
    });
    a.start();
    for (int i = 0; i < 20; ++i) {
        incoming.send(order{i % 2 == 0 ? "even" : "odd", i}).get();
    }
    ASSERT_TRUE(by_account.wait_for_count(20));
    a.stop();
    std::uint64_t on_broker = 0;
    for (std::uint32_t p = 0; p < 2; ++p) {
        on_broker += a.broker().end_offset({"stored", p});
    }
    EXPECT_EQ(on_broker, 20U);  // encoded there, as the topic's codec says
    for (const std::string& v : by_account.values()) {
        const bool even = v.rfind("even:", 0) == 0;
        const int amount = std::stoi(v.substr(v.find(':') + 1));
        EXPECT_EQ(even, amount % 2 == 0) << v;
    }
    const auto names = a.broker().topics();
    EXPECT_EQ(std::count(names.begin(), names.end(), "chan-fwd-store-account-repartition"), 0);
}

TEST(Channel, AStreamOfTheAppReadsAChannel) {
    app a{"chan-stream", {.broker = "memory://channel-stream"}};
    auto& ticks = a.channel<std::string, int>();
    auto& s = a.stream(ticks);
    gathered<int> seen;
    a.task([&]() -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            seen.add(*v);
        }
    });
    a.start();
    for (int i = 0; i < 10; ++i) {
        ticks.send(i).get();
    }
    ASSERT_TRUE(seen.wait_for_count(10));
    a.stop();
    EXPECT_EQ(seen.values(), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Channel, AStreamReadsChannelsOrTopicsNotBoth) {
    app a{"chan-mixed", {.broker = "memory://channel-mixed"}};
    auto& c = a.channel<std::string, int>("local");
    auto& t = a.topic<std::string, int>("remote");
    try {
        a.agent("both", c & t, [](stream<std::string, int>& s) -> troupe::task<void> {
            while (co_await s.next()) {}
        });
        FAIL() << "an agent over a channel and a topic was made";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(),
                     "streams: app 'chan-mixed': agent 'both' reads the channel 'local' and the topic 'remote': a "
                     "stream reads channels or topics, not both (forward one into the other with through())");
    }
    // Two channels together are fine.
    auto& d = a.channel<std::string, int>("local-2");
    gathered<int> seen;
    a.agent("two", c & d, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            seen.add(*v);
        }
    });
    a.start();
    c.send(1).get();
    d.send(2).get();
    ASSERT_TRUE(seen.wait_for_count(2));
}

}  // namespace
