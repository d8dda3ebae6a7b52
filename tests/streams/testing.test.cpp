#include <troupe/streams/testing.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// The test kit: an agent's function driven with no broker set up and its app not started;
// what it yields for each value, everything it yielded, its restarts and bad values.

namespace testing_test {

struct add {
    int a = 0;
    int b = 0;
};
TROUPE_RECORD(add, a, b);

}  // namespace testing_test

namespace {

using namespace std::chrono_literals;
using namespace troupe::streams;
using testing_test::add;

TEST(TestContext, PutGivesWhatTheAgentYieldedAndResultsAreWhatItsSinksGet) {
    app a{"kit", {.broker = "memory://kit-put"}};  // never started
    auto& topic = a.topic<std::string, add>("adding");
    int sunk = 0;
    auto& adding = a.agent("adding", topic, [](stream<std::string, add>& s) -> troupe::generator<int> {
        while (std::optional<add> v = co_await s.next()) {
            co_yield v->a + v->b;
        }
    });
    adding.sink([&](int) { ++sunk; });

    test_context tc(adding);
    EXPECT_EQ(tc.put(add{2, 3}), 5);
    EXPECT_EQ(tc.put(add{10, 20}, 5s, {.key = "k"}), 30);
    EXPECT_EQ(tc.results(), (std::vector<int>{5, 30}));
    EXPECT_EQ(sunk, 0);  // the agent's own sinks are not run
    std::uint64_t in_app = 0;
    for (std::uint32_t p = 0; p < topic.partitions(); ++p) {
        in_app += a.broker().end_offset({"adding", p});
    }
    EXPECT_EQ(in_app, 0U);  // the app's broker is not touched
}

TEST(TestContext, AnAgentThatYieldsNothingIsDrained) {
    app a{"kit", {.broker = "memory://kit-void"}};
    auto& topic = a.topic<std::string, int>("numbers", {.partitions = 1});  // one order for all
    std::vector<int> seen;                                                  // the agent's; read after each put returned
    auto& counting = a.agent("count", topic, [&](stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            seen.push_back(*v);
        }
    });
    test_context tc(counting);
    for (int i = 0; i < 50; ++i) {
        tc.put_nowait(i);
    }
    tc.drain();  // all 50 finished: the function came back for the next one after each
    EXPECT_EQ(tc.finished(), 50U);
    tc.put(50);  // returns once the function has finished it
    EXPECT_EQ(tc.finished(), 51U);
    ASSERT_EQ(seen.size(), 51U);
    for (std::size_t i = 0; i < 51; ++i) {
        EXPECT_EQ(seen[i], static_cast<int>(i));
    }
}

TEST(TestContext, RestartsAndBadValuesBehaveAsInTheApp) {
    app a{"kit", {.broker = "memory://kit-restart"}};
    auto& topic = a.topic<std::string, add>("adding");
    auto& fragile = a.agent("fragile", topic,
                            [](stream<std::string, add>& s) -> troupe::generator<int> {
                                while (std::optional<add> v = co_await s.next()) {
                                    if (v->a < 0) {
                                        throw std::invalid_argument("negative");
                                    }
                                    co_yield v->a;
                                }
                            },
                            {.concurrency = 2});
    test_context tc(fragile);
    EXPECT_EQ(tc.put(add{1, 0}), 1);
    try {
        (void)tc.put(add{-1, 0}, 50ms);
        FAIL() << "a value the function threw on was answered";
    } catch (const troupe::timeout& e) {
        EXPECT_STREQ(e.what(), "streams: ask of agent 'fragile': no reply within 50 ms");
    }
    EXPECT_EQ(tc.put(add{7, 0}), 7);  // it started again
    EXPECT_EQ(tc.results(), (std::vector<int>{1, 7}));
}

}  // namespace
