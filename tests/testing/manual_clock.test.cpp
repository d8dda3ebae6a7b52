#include <troupe/testing/manual_clock.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using troupe::testing::manual_clock;

TEST(manual_clock, time_starts_at_zero_and_moves_only_when_advanced) {
    manual_clock c;
    EXPECT_EQ(c.now(), 0ms);
    EXPECT_EQ(c.advance(15ms), 0u);
    EXPECT_EQ(c.now(), 15ms);
    EXPECT_FALSE(c.next_deadline().has_value());
}

TEST(manual_clock, timers_fire_in_deadline_order_then_in_the_order_they_were_added) {
    manual_clock c;
    std::vector<std::string> fired;
    c.add(30ms, 0ms, [&] { fired.push_back("c@30"); });
    c.add(10ms, 0ms, [&] { fired.push_back("a@10"); });
    c.add(10ms, 0ms, [&] { fired.push_back("b@10"); });
    EXPECT_EQ(c.next_deadline(), 10ms);
    EXPECT_EQ(c.pending(), 3u);

    EXPECT_EQ(c.advance(9ms), 0u);
    EXPECT_TRUE(fired.empty());
    EXPECT_EQ(c.advance(21ms), 3u);
    EXPECT_EQ(fired, (std::vector<std::string>{"a@10", "b@10", "c@30"}));
    EXPECT_EQ(c.pending(), 0u);
}

TEST(manual_clock, a_function_sees_the_time_of_its_own_deadline) {
    manual_clock c;
    std::vector<std::chrono::steady_clock::duration> seen;
    c.add(10ms, 0ms, [&] { seen.push_back(c.now()); });
    c.add(25ms, 0ms, [&] { seen.push_back(c.now()); });
    c.advance(1s);
    EXPECT_EQ(seen, (std::vector<std::chrono::steady_clock::duration>{10ms, 25ms}));
    EXPECT_EQ(c.now(), 1s);
}

TEST(manual_clock, a_periodic_timer_fires_once_per_elapsed_period_until_cancelled) {
    manual_clock c;
    int n = 0;
    auto t = c.add(10ms, 10ms, [&] { ++n; });
    c.advance(35ms);
    EXPECT_EQ(n, 3);
    EXPECT_EQ(c.next_deadline(), 40ms);
    t->cancelled.store(true);
    c.advance(100ms);
    EXPECT_EQ(n, 3);
    EXPECT_FALSE(c.next_deadline().has_value());
}

TEST(manual_clock, timers_added_while_firing_fire_in_the_same_advance_if_due) {
    manual_clock c;
    std::vector<std::string> fired;
    c.add(10ms, 0ms, [&] {
        fired.push_back("first");
        c.add(5ms, 0ms, [&] { fired.push_back("second@15"); });
        c.add(50ms, 0ms, [&] { fired.push_back("third@60"); });
    });
    EXPECT_EQ(c.advance(20ms), 2u);
    EXPECT_EQ(fired, (std::vector<std::string>{"first", "second@15"}));
    EXPECT_EQ(c.next_deadline(), 60ms);
}

TEST(manual_clock, a_zero_advance_fires_what_is_due_now) {
    manual_clock c;
    int n = 0;
    c.add(0ms, 0ms, [&] { ++n; });
    c.add(-5ms, 0ms, [&] { ++n; });
    EXPECT_EQ(n, 0);  // never inside add()
    EXPECT_EQ(c.advance(0ms), 2u);
    EXPECT_EQ(n, 2);
}

TEST(manual_clock, a_periodic_timer_whose_target_is_dead_ends) {
    manual_clock c;
    int n = 0;
    auto t = c.add(10ms, 10ms, [&] {
        ++n;
        throw troupe::actor_dead("gone");
    });
    c.advance(100ms);
    EXPECT_EQ(n, 1);
    EXPECT_TRUE(t->fired.load());
}

TEST(manual_clock, refuses_negative_advances_advances_from_timers_and_timers_after_shutdown) {
    manual_clock c;
    EXPECT_THROW(c.advance(-1ms), troupe::error);
    bool refused = false;
    c.add(1ms, 0ms, [&] {
        try {
            c.advance(1ms);
        } catch (const troupe::error&) {
            refused = true;
        }
    });
    c.advance(1ms);
    EXPECT_TRUE(refused);
    c.add(1h, 0ms, [] {});
    c.shutdown();
    EXPECT_EQ(c.pending(), 0u);
    EXPECT_THROW(c.add(1ms, 0ms, [] {}), troupe::error);
    c.shutdown();
}

}  // namespace
