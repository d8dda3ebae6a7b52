#include <troupe/testing/manual_clock.hpp>

#include <troupe/core/detail/runtime_thread.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/system.hpp>
#include <troupe/core/timers.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/test_support.hpp"

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
    troupe::timer(t).cancel();
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

TEST(manual_clock, cancel_removes_the_timer_and_destroys_its_function_at_once) {
    manual_clock c;
    auto captured = std::make_shared<int>(1);
    troupe::timer t(c.add(1h, 0ms, [captured] {}));
    troupe::timer periodic(c.add(1h, 1h, [captured] {}));
    EXPECT_EQ(captured.use_count(), 3);
    EXPECT_EQ(c.pending(), 2u);
    t.cancel();
    periodic.cancel();
    EXPECT_EQ(captured.use_count(), 1);
    EXPECT_EQ(c.pending(), 0u);
    EXPECT_FALSE(c.next_deadline().has_value());
}

TEST(manual_clock, many_cancelled_timers_do_not_pile_up) {
    manual_clock c;
    for (int i = 0; i < 10000; ++i) {
        troupe::timer(c.add(1h, 0ms, [] {})).cancel();
    }
    EXPECT_EQ(c.pending(), 0u);
}

TEST(manual_clock, timers_cancelled_out_of_the_middle_leave_the_others_in_order) {
    manual_clock c;
    std::vector<int> fired;
    std::vector<troupe::timer> timers;
    for (int i = 0; i < 200; ++i) {
        const auto due = std::chrono::milliseconds((i * 37) % 101);  // scrambled deadlines
        timers.emplace_back(c.add(due, 0ms, [&fired, i] { fired.push_back(i); }));
    }
    std::vector<int> expected;
    for (int i = 0; i < 200; ++i) {
        if (i % 3 == 0) {
            timers[i].cancel();
        } else {
            expected.push_back(i);
        }
    }
    EXPECT_EQ(c.pending(), expected.size());
    // By deadline, then in the order they were added.
    std::stable_sort(expected.begin(), expected.end(), [](int a, int b) { return (a * 37) % 101 < (b * 37) % 101; });
    EXPECT_EQ(c.advance(1s), expected.size());
    EXPECT_EQ(fired, expected);
}

TEST(manual_clock, fires_as_a_runtime_thread) {
    manual_clock c;
    bool runtime = false;
    c.add(1ms, 0ms, [&] { runtime = troupe::detail::on_runtime_thread(); });
    c.advance(1ms);
    EXPECT_TRUE(runtime);
    EXPECT_FALSE(troupe::detail::on_runtime_thread());  // only while it fires
}

struct hold {
    troupe_test::gate* entered;
    troupe_test::gate* release;
};
struct tick {};
class holder : public troupe::actor {
public:
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }
    void handle(tick) {}
};

TEST(manual_clock, a_timer_into_a_full_block_mailbox_is_a_dead_letter_not_a_wait) {
    troupe_test::gate entered;  // the gates and the clock outlive the system, and so the actor
    troupe_test::gate release;
    manual_clock c;
    troupe::system_options options = troupe_test::small_system();
    options.timers = &c;
    troupe::system sys(options);
    auto busy = sys.spawn<holder>(troupe_test::bounded(1, troupe::overflow::block));
    busy.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    busy.tell(tick{});  // full
    int after = 0;
    sys.timers().send_after(busy, 1ms, tick{});
    sys.timers().after(2ms, [&] { ++after; });
    EXPECT_EQ(c.advance(2ms), 2u);  // returns: the first timer did not wait for room
    EXPECT_EQ(after, 1);
    EXPECT_EQ(sys.dead_letters(), 1u);
    release.open();
}

}  // namespace
