#include <troupe/core/timers.hpp>

#include "test_support.hpp"

#include <troupe/core/detail/runtime_thread.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/inbox.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// timers: send_after, send_every, after, every, cancel (Pykka has none: issue #53). No test
// sleeps: each waits on an inbox with a deadline, and ordering rests on the timer thread firing
// strictly by due time.

namespace timers_tests {

using namespace std::chrono_literals;
using troupe_test::gate;
using troupe_test::patience;
using troupe_test::small_system;

struct tick {
    int n;
};
struct marker {};

TEST(timers, send_after_tells_an_address_after_the_delay) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    const auto start = std::chrono::steady_clock::now();
    auto t = sys.timers().send_after(box.address(), 20ms, tick{1});
    EXPECT_EQ(box.receive<tick>(patience()).n, 1);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

struct report {
    troupe::address to;
};
class ticker : public troupe::actor {
public:
    using handles = troupe::handles<tick, report>;
    void handle(tick t) {
        if (report_to_) {
            report_to_.tell(t);
        }
    }
    void handle(report r) { report_to_ = r.to; }

private:
    troupe::address report_to_;
};

TEST(timers, send_after_tells_a_typed_ref) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto r = sys.spawn<ticker>();
    r.tell(report{box.address()});
    (void)sys.timers().send_after(r, 5ms, tick{7});
    EXPECT_EQ(box.receive<tick>(patience()).n, 7);
    // And through the actor's untyped address.
    (void)sys.timers().send_after(troupe::address(r), 5ms, tick{8});
    EXPECT_EQ(box.receive<tick>(patience()).n, 8);
}

// Timers fire in due order, whatever the order they were set in (the gaps dwarf the time it
// takes to set them).
TEST(timers, timers_fire_in_due_order) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    (void)sys.timers().send_after(box.address(), troupe_test::scaled(60ms), tick{3});
    (void)sys.timers().send_after(box.address(), 1ms, tick{1});
    (void)sys.timers().send_after(box.address(), troupe_test::scaled(30ms), tick{2});
    EXPECT_EQ(box.receive<tick>(patience()).n, 1);
    EXPECT_EQ(box.receive<tick>(patience()).n, 2);
    EXPECT_EQ(box.receive<tick>(patience()).n, 3);
}

TEST(timers, send_every_repeats_until_cancelled) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto t = sys.timers().send_every(box.address(), 5ms, tick{0});
    EXPECT_TRUE(t.active());
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(box.receive<tick>(patience()).n, 0);
    }
    t.cancel();
    // Ticks sent before cancel() returned may still be queued (a loaded machine lets several
    // pile up between receives): only those that come after count as late.
    const std::size_t queued_at_cancel = box.size();
    t.cancel();  // idempotent
    EXPECT_FALSE(t.active());
    // A marker due after two more periods: once it is here, the cancelled timer is done for good.
    (void)sys.timers().send_after(box.address(), 10ms, marker{});
    (void)box.receive<marker>(patience());
    std::size_t ticks = 0;
    while (box.try_receive<tick>()) {
        ++ticks;
    }
    EXPECT_LE(ticks, queued_at_cancel + 1) << "at most one tick already being sent when cancel() ran";
    EXPECT_EQ(box.size(), 0u);
}

TEST(timers, a_cancelled_timer_never_fires) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto t = sys.timers().send_after(box.address(), troupe_test::scaled(30ms), tick{1});
    t.cancel();
    EXPECT_FALSE(t.active());
    (void)sys.timers().send_after(box.address(), troupe_test::scaled(40ms), marker{});
    (void)box.receive<marker>(patience());
    EXPECT_FALSE(box.try_receive<tick>().has_value());
}

TEST(timers, a_one_shot_timer_is_inactive_once_fired) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto t = sys.timers().send_after(box.address(), 1ms, tick{1});
    (void)box.receive<tick>(patience());
    // The timer thread marks it fired before it handles the next timer.
    (void)sys.timers().send_after(box.address(), 1ms, marker{});
    (void)box.receive<marker>(patience());
    EXPECT_FALSE(t.active());
}

TEST(timers, dropping_the_handle_does_not_cancel) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    { (void)sys.timers().send_after(box.address(), 1ms, tick{1}); }
    EXPECT_EQ(box.receive<tick>(patience()).n, 1);
}

TEST(timers, a_default_timer_is_inactive) {
    troupe::timer t;
    EXPECT_FALSE(t.active());
    EXPECT_NO_THROW(t.cancel());
}

// send_every stops by itself once its target is dead.
TEST(timers, send_every_stops_when_the_target_dies) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto r = sys.spawn<ticker>();
    r.tell(report{box.address()});
    auto t = sys.timers().send_every(r, 5ms, tick{4});
    EXPECT_EQ(box.receive<tick>(patience()).n, 4);
    ASSERT_TRUE(r.stop());
    // The periodic timer fires at least once more before this marker, finds the target dead and ends.
    (void)sys.timers().send_after(box.address(), 20ms, marker{});
    (void)box.receive<marker>(patience());
    EXPECT_FALSE(t.active());
}

TEST(timers, after_and_every_run_functions_on_the_timer_thread) {
    troupe::system sys(small_system());
    std::promise<std::thread::id> ran_on;
    (void)sys.timers().after(1ms, [&] { ran_on.set_value(std::this_thread::get_id()); });
    auto f = ran_on.get_future();
    ASSERT_EQ(f.wait_for(patience()), std::future_status::ready);
    EXPECT_NE(f.get(), std::this_thread::get_id());

    std::atomic<int> runs{0};
    std::promise<void> three;
    auto t = sys.timers().every(1ms, [&] {
        if (++runs == 3) {
            three.set_value();
        }
    });
    ASSERT_EQ(three.get_future().wait_for(patience()), std::future_status::ready);
    t.cancel();
}

TEST(timers, every_needs_a_positive_period) {
    troupe::system sys(small_system());
    try {
        (void)sys.timers().every(0ms, [] {});
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "timers::every needs a positive period");
    }
    EXPECT_THROW((void)sys.timers().send_every(troupe::address(), -1ms, tick{0}), troupe::error);
}

// A periodic function that throws is logged and keeps running.
TEST(timers, a_throwing_function_is_logged_and_keeps_its_period) {
    troupe_test::log_capture logs;
    troupe::system sys(small_system());
    std::atomic<int> runs{0};
    std::promise<void> twice;
    auto t = sys.timers().every(1ms, [&] {
        if (++runs == 2) {
            twice.set_value();
        }
        if (runs <= 2) {
            throw std::runtime_error("timer trouble");
        }
    });
    ASSERT_EQ(twice.get_future().wait_for(patience()), std::future_status::ready);
    t.cancel();
    sys.shutdown();  // the timer thread is joined: every line is in
    auto errors = logs.lines_starting("error ");
    ASSERT_GE(errors.size(), 2u);
    EXPECT_EQ(errors[0], "error a timer's function threw: timer trouble");
}

TEST(timers, a_shut_down_system_sets_no_timers) {
    troupe::system sys(small_system());
    sys.shutdown();
    try {
        (void)sys.timers().after(1ms, [] {});
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "the system is shut down: no more timers");
    }
}

// Defect 12: a cancelled timer kept its function (and the refs it captured) until its deadline.
TEST(timers, cancel_destroys_the_function_and_what_it_captured_at_once) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto captured = std::make_shared<int>(1);
    auto once = sys.timers().after(1h, [captured] {});
    auto often = sys.timers().every(1h, [captured] {});
    auto message = sys.timers().send_after(box.address(), 1h, captured);
    EXPECT_EQ(captured.use_count(), 4);
    once.cancel();
    EXPECT_EQ(captured.use_count(), 3);
    often.cancel();
    message.cancel();
    EXPECT_EQ(captured.use_count(), 1);
    EXPECT_EQ(sys.timers().pending(), 0u);
}

TEST(timers, cancelled_timers_leave_the_heap_at_once) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    // A deadline per request, cancelled when the reply comes (fail_after's pattern).
    for (int i = 0; i < 10000; ++i) {
        sys.timers().send_after(box.address(), 1h, tick{i}).cancel();
    }
    EXPECT_EQ(sys.timers().pending(), 0u);
    std::vector<troupe::timer> kept;
    for (int i = 0; i < 1000; ++i) {
        kept.push_back(sys.timers().send_after(box.address(), 1h + std::chrono::seconds(i % 17), tick{i}));
    }
    EXPECT_EQ(sys.timers().pending(), 1000u);
    for (std::size_t i = 0; i < kept.size(); i += 2) {
        kept[i].cancel();  // out of the middle of the heap
    }
    EXPECT_EQ(sys.timers().pending(), 500u);
    // The heap is still in order: a new earliest timer fires.
    (void)sys.timers().send_after(box.address(), 1ms, marker{});
    (void)box.receive<marker>(patience());
    EXPECT_EQ(sys.timers().pending(), 500u);
}

TEST(timers, the_timer_thread_is_a_runtime_thread) {
    troupe::system sys(small_system());
    std::promise<bool> runtime;
    (void)sys.timers().after(1ms, [&] { runtime.set_value(troupe::detail::on_runtime_thread()); });
    auto f = runtime.get_future();
    ASSERT_EQ(f.wait_for(patience()), std::future_status::ready);
    EXPECT_TRUE(f.get());
}

struct hold {
    gate* entered;
    gate* release;
};
struct ticks_seen {};
/// Blocks in a handler until released; counts ticks.
class holder : public troupe::actor {
public:
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }
    void handle(tick) { ++ticks_; }
    int handle(ticks_seen) const { return ticks_; }

private:
    int ticks_ = 0;
};

// Defect 13: a timer into a full `block` mailbox made the timer thread wait for room, and every
// other timer of the system with it.
TEST(timers, a_timer_into_a_full_block_mailbox_does_not_hold_up_the_other_timers) {
    gate entered;  // the gates outlive the system, and so the actor
    gate release;
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto busy = sys.spawn<holder>(troupe_test::bounded(1, troupe::overflow::block));
    busy.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    busy.tell(tick{0});  // the mailbox is full now
    (void)sys.timers().send_after(busy, 1ms, tick{1});
    (void)sys.timers().send_after(box.address(), 2ms, marker{});  // fires after the first
    (void)box.receive<marker>(patience());
    EXPECT_EQ(sys.dead_letters(), 1u);  // the tick that found no room, counted
    release.open();
    EXPECT_EQ(busy.ask(ticks_seen{}).get(patience()), 1);
}

}  // namespace timers_tests
