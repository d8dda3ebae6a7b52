#include <troupe/core/future.hpp>

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

// Futures and promises (Pykka FU-*, TO-03, AS-04): get, timeouts, setter rules, then, when_all,
// when_any.

namespace future_tests {

using namespace std::chrono_literals;
using troupe_test::patience;

TEST(future, a_default_future_has_no_state) {
    troupe::future<int> f;
    EXPECT_FALSE(f.valid());
    try {
        (void)f.get();
        FAIL() << "get() on an empty future must throw";
    } catch (const troupe::no_state& e) {
        EXPECT_STREQ(e.what(), "this future has no result to wait for (default-constructed or moved from)");
    }
    EXPECT_THROW((void)f.ready(), troupe::no_state);
    EXPECT_THROW(f.wait(), troupe::no_state);
}

TEST(future, a_moved_from_future_has_no_state) {
    troupe::promise<int> p;
    auto f = p.get_future();
    auto g = std::move(f);
    EXPECT_TRUE(g.valid());
    EXPECT_FALSE(f.valid());  // NOLINT(bugprone-use-after-move): the documented state
    EXPECT_THROW((void)f.get(), troupe::no_state);
}

// FU-02: get returns the value, any number of times; get(0) on a completed future returns at once.
TEST(future, get_returns_the_value_any_number_of_times) {
    troupe::promise<int> p;
    auto f = p.get_future();
    EXPECT_TRUE(f.valid());
    EXPECT_FALSE(f.ready());
    p.set_value(1);
    EXPECT_TRUE(f.ready());
    EXPECT_FALSE(f.failed());
    EXPECT_EQ(f.get(), 1);
    EXPECT_EQ(f.get(), 1);
    EXPECT_EQ(f.get(0s), 1);
    EXPECT_EQ(f.get(0s), 1);
    EXPECT_TRUE(p.satisfied());
}

// FU-02, TO-01: get with a timeout on a future without a result throws troupe::timeout.
TEST(future, get_with_a_timeout_throws_timeout_when_no_result_arrives) {
    troupe::promise<int> p;
    auto f = p.get_future();
    try {
        (void)f.get(10ms);
        FAIL() << "expected troupe::timeout";
    } catch (const troupe::timeout& e) {
        EXPECT_STREQ(e.what(), "no result within 10 ms");
    }
    EXPECT_THROW((void)f.get(0s), troupe::timeout);
    EXPECT_FALSE(f.wait_for(0s));
    // A timeout cancels nothing: the value set later is still delivered (TO-02).
    p.set_value(5);
    EXPECT_TRUE(f.wait_for(0s));
    EXPECT_EQ(f.get(0s), 5);
}

// TO-03: a negative timeout is a poll: at once, a timeout if empty, the value if set.
TEST(future, a_negative_timeout_polls) {
    troupe::promise<std::string> p;
    auto f = p.get_future();
    EXPECT_THROW((void)f.get(-1s), troupe::timeout);
    p.set_value("ready");
    EXPECT_EQ(f.get(-1s), "ready");
}

// FU-03, FU-06 (hazard): a second set or set_exception throws, and never blocks.
TEST(future, a_promise_is_satisfied_only_once) {
    troupe::promise<int> p;
    p.set_value(0);
    try {
        p.set_value(0);
        FAIL() << "a second set_value must throw";
    } catch (const troupe::promise_already_satisfied& e) {
        EXPECT_STREQ(e.what(), "the promise already has a value or an error");
    }
    EXPECT_THROW(p.set_error(std::runtime_error("late")), troupe::promise_already_satisfied);
    EXPECT_EQ(p.get_future().get(), 0);

    troupe::promise<int> q;
    q.set_error(std::runtime_error("first"));
    EXPECT_THROW(q.set_error(std::runtime_error("second")), troupe::promise_already_satisfied);
    EXPECT_THROW(q.set_value(1), troupe::promise_already_satisfied);
    try {
        (void)q.get_future().get();
        FAIL() << "expected the first error";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "first");
    }
}

// FU-06: the second set_exception from another thread reports failure instead of blocking it.
TEST(future, a_second_set_exception_on_another_thread_does_not_block) {
    troupe::promise<void> p;
    p.set_exception(std::make_exception_ptr(std::logic_error("one")));
    std::promise<bool> threw;
    std::thread t([&] {
        try {
            p.set_exception(std::make_exception_ptr(std::logic_error("two")));
            threw.set_value(false);
        } catch (const troupe::promise_already_satisfied&) {
            threw.set_value(true);
        }
    });
    auto result = threw.get_future();
    ASSERT_EQ(result.wait_for(patience()), std::future_status::ready) << "the second setter blocked";
    EXPECT_TRUE(result.get());
    t.join();
}

// FU-04, AS-04: a stored exception is rethrown by every get, as the same object (same type and what()).
TEST(future, a_stored_exception_is_rethrown_by_every_get) {
    troupe::promise<int> p;
    try {
        throw std::out_of_range("no such key");
    } catch (...) {
        p.set_exception(std::current_exception());
    }
    auto f = p.get_future();
    EXPECT_TRUE(f.ready());
    EXPECT_TRUE(f.failed());
    const std::exception* first = nullptr;
    const std::exception* second = nullptr;
    try {
        (void)f.get();
    } catch (const std::out_of_range& e) {
        EXPECT_STREQ(e.what(), "no such key");
        first = &e;
    }
    try {
        (void)f.get(0s);
    } catch (const std::out_of_range& e) {
        second = &e;
    }
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first, second) << "each get must rethrow the same exception object";
}

TEST(future, a_dropped_promise_breaks_its_future) {
    troupe::future<int> f;
    {
        troupe::promise<int> p;
        f = p.get_future();
    }
    ASSERT_TRUE(f.ready());
    try {
        (void)f.get();
        FAIL() << "expected troupe::broken_promise";
    } catch (const troupe::broken_promise& e) {
        EXPECT_STREQ(e.what(), "the promise was dropped without a value (the reply will never come)");
    }
}

TEST(future, a_promise_can_be_moved_and_a_moved_from_promise_refuses_values) {
    troupe::promise<int> p;
    auto f = p.get_future();
    troupe::promise<int> q(std::move(p));
    EXPECT_FALSE(p.valid());  // NOLINT(bugprone-use-after-move)
    try {
        p.set_value(1);
        FAIL() << "expected troupe::no_state";
    } catch (const troupe::no_state& e) {
        EXPECT_STREQ(e.what(), "this promise was moved from");
    }
    q.set_value(2);
    EXPECT_EQ(f.get(), 2);

    // Move-assigning over a promise that still has a pending state breaks that state.
    troupe::promise<int> r;
    auto abandoned = r.get_future();
    r = troupe::promise<int>();
    EXPECT_THROW((void)abandoned.get(0s), troupe::broken_promise);
}

TEST(future, void_futures_complete_without_a_value) {
    troupe::promise<void> p;
    auto f = p.get_future();
    EXPECT_FALSE(f.ready());
    p.set_value();
    EXPECT_NO_THROW(f.get());
    EXPECT_NO_THROW(f.get(0s));
    EXPECT_NO_THROW(troupe::make_ready_future().get(0s));
}

TEST(future, ready_and_failed_futures_are_made_complete) {
    auto ready = troupe::make_ready_future(std::string("x"));
    static_assert(std::is_same_v<decltype(ready), troupe::future<std::string>>);
    EXPECT_EQ(ready.get(0s), "x");
    auto failed = troupe::make_failed_future<int>(std::invalid_argument("bad"));
    EXPECT_TRUE(failed.failed());
    EXPECT_THROW((void)failed.get(0s), std::invalid_argument);
    // An exception_ptr is the error itself, not a value to throw.
    auto passed_on = troupe::make_failed_future<int>(std::make_exception_ptr(std::out_of_range("far")));
    EXPECT_THROW((void)passed_on.get(0s), std::out_of_range);
    troupe::promise<void> p;
    p.set_error(std::make_exception_ptr(std::domain_error("d")));
    EXPECT_THROW(p.get_future().get(0s), std::domain_error);
}

// FU-07: a future may hold another future; nothing flattens it.
TEST(future, a_future_of_a_future_is_not_flattened) {
    troupe::promise<std::string> inner;
    troupe::promise<troupe::future<std::string>> outer;
    inner.set_value("foo");
    outer.set_value(inner.get_future());
    auto f = outer.get_future();
    static_assert(std::is_same_v<std::decay_t<decltype(f.get())>, troupe::future<std::string>>);
    EXPECT_EQ(f.get().get(), "foo");
}

// FU-08 (hazard): every thread waiting on one future gets the value.
TEST(future, every_waiter_gets_the_value) {
    constexpr int waiters = 4;
    troupe::promise<int> p;
    auto f = p.get_future();
    std::latch started(waiters);
    std::vector<int> got(waiters, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < waiters; ++i) {
        threads.emplace_back([&, i] {
            started.count_down();
            try {
                got[i] = f.get(patience());
            } catch (const troupe::timeout&) {
                got[i] = -1;
            }
        });
    }
    started.wait();
    p.set_value(42);
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(got, std::vector<int>(waiters, 42));
}

TEST(future, rvalue_get_moves_the_value_out) {
    troupe::promise<std::unique_ptr<int>> p;
    p.set_value(std::make_unique<int>(7));
    std::unique_ptr<int> v = p.get_future().get();
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, 7);

    // A value shared by another future is copied, not stolen.
    troupe::promise<std::string> q;
    auto f = q.get_future();
    auto g = f;
    q.set_value("shared");
    EXPECT_EQ(std::move(f).get(0s), "shared");
    EXPECT_EQ(g.get(), "shared");
}

// FU-11: then gives a future of f(value); f runs once, on the completing thread, or at once.
TEST(future, then_maps_the_value_once_on_the_completing_thread) {
    troupe::promise<int> p;
    std::atomic<int> calls{0};
    std::thread::id ran_on;
    auto mapped = p.get_future().then([&](int x) {
        ++calls;
        ran_on = std::this_thread::get_id();
        return x + 10;
    });
    EXPECT_EQ(calls.load(), 0) << "nothing runs before the source completes";
    std::thread setter([&] { p.set_value(30); });
    const auto setter_id = setter.get_id();
    setter.join();
    EXPECT_EQ(mapped.get(patience()), 40);
    EXPECT_EQ(mapped.get(), 40);
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(ran_on, setter_id);

    // Already complete: runs at once, on this thread.
    auto now = troupe::make_ready_future(1).then([&](int x) {
        ran_on = std::this_thread::get_id();
        return std::to_string(x);
    });
    EXPECT_TRUE(now.ready());
    EXPECT_EQ(now.get(), "1");
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

// FU-12: then passes the whole value (a vector stays a vector).
TEST(future, then_passes_the_whole_value) {
    auto f = troupe::make_ready_future(std::vector<int>{10, 20, 30});
    auto sum = f.then([](const std::vector<int>& v) { return v.size(); });
    EXPECT_EQ(sum.get(0s), 3u);
}

// FU-13: derived futures pass the source's error on, and use their own timeout.
TEST(future, then_passes_errors_through_and_uses_its_own_timeout) {
    troupe::promise<int> p;
    bool called = false;
    auto derived = p.get_future().then([&](int x) {
        called = true;
        return x;
    });
    EXPECT_THROW((void)derived.get(0s), troupe::timeout);
    p.set_error(std::domain_error("source failed"));
    try {
        (void)derived.get(patience());
        FAIL() << "expected the source's error";
    } catch (const std::domain_error& e) {
        EXPECT_STREQ(e.what(), "source failed");
    }
    EXPECT_FALSE(called);
}

TEST(future, an_exception_in_then_fails_the_derived_future) {
    auto f = troupe::make_ready_future(3).then([](int) -> int { throw std::runtime_error("map failed"); });
    EXPECT_THROW((void)f.get(0s), std::runtime_error);
}

TEST(future, then_flattens_a_future_returned_by_the_function) {
    troupe::promise<int> later;
    auto chained =
        troupe::make_ready_future(2).then([&](int x) { return later.get_future().then([x](int y) { return x * y; }); });
    static_assert(std::is_same_v<decltype(chained), troupe::future<int>>);
    EXPECT_FALSE(chained.ready());
    later.set_value(21);
    EXPECT_EQ(chained.get(patience()), 42);
}

TEST(future, then_works_on_void_futures) {
    troupe::promise<void> p;
    auto f = p.get_future().then([] { return std::string("done"); });
    auto g = f.then([](const std::string&) {});
    static_assert(std::is_same_v<decltype(g), troupe::future<void>>);
    p.set_value();
    EXPECT_EQ(f.get(patience()), "done");
    EXPECT_NO_THROW(g.get(patience()));
}

// FU-16, FU-17: when_all gives the values in argument order; a missing one times out.
TEST(future, when_all_of_a_vector_keeps_the_order) {
    std::vector<troupe::promise<int>> ps(3);
    std::vector<troupe::future<int>> fs;
    for (auto& p : ps) {
        fs.push_back(p.get_future());
    }
    auto all = troupe::when_all(fs);
    ps[2].set_value(2);
    ps[0].set_value(0);
    EXPECT_THROW((void)all.get(0s), troupe::timeout);
    ps[1].set_value(1);
    EXPECT_EQ(all.get(patience()), (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(all.get(), (std::vector<int>{0, 1, 2}));
}

TEST(future, when_all_of_nothing_is_complete) {
    EXPECT_TRUE(troupe::when_all(std::vector<troupe::future<int>>{}).get(0s).empty());
    EXPECT_NO_THROW(troupe::when_all(std::vector<troupe::future<void>>{}).get(0s));
}

TEST(future, when_all_fails_with_the_first_error) {
    troupe::promise<int> a;
    troupe::promise<int> b;
    troupe::promise<int> c;
    auto all = troupe::when_all(std::vector{a.get_future(), b.get_future(), c.get_future()});
    b.set_error(std::runtime_error("b failed"));
    c.set_error(std::runtime_error("c failed"));
    try {
        (void)all.get(patience());
        FAIL() << "expected b's error";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "b failed");
    }
    a.set_value(1);  // too late to matter
    EXPECT_THROW((void)all.get(0s), std::runtime_error);
}

TEST(future, when_all_of_void_futures) {
    troupe::promise<void> a;
    troupe::promise<void> b;
    auto all = troupe::when_all(std::vector{a.get_future(), b.get_future()});
    a.set_value();
    EXPECT_FALSE(all.ready());
    b.set_value();
    EXPECT_NO_THROW(all.get(patience()));
}

TEST(future, when_all_variadic_gives_a_tuple_in_argument_order) {
    troupe::promise<int> a;
    troupe::promise<std::string> b;
    troupe::promise<void> c;
    auto all = troupe::when_all(a.get_future(), b.get_future(), c.get_future());
    static_assert(std::is_same_v<decltype(all), troupe::future<std::tuple<int, std::string, troupe::detail::unit>>>);
    c.set_value();
    b.set_value("b");
    EXPECT_THROW((void)all.get(0s), troupe::timeout);
    a.set_value(1);
    const auto& [x, y, z] = all.get(patience());
    EXPECT_EQ(x, 1);
    EXPECT_EQ(y, "b");
    (void)z;
}

TEST(future, when_all_variadic_fails_with_the_first_error) {
    troupe::promise<int> a;
    troupe::promise<double> b;
    auto all = troupe::when_all(a.get_future(), b.get_future());
    b.set_error(std::length_error("too long"));
    EXPECT_THROW((void)all.get(patience()), std::length_error);
}

// FU-18: when_all is one future, so a timeout on it is one total deadline.
TEST(future, a_timeout_on_when_all_is_a_total_deadline) {
    troupe::promise<int> a;
    troupe::promise<int> b;
    auto all = troupe::when_all(a.get_future(), b.get_future());
    a.set_value(1);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW((void)all.get(20ms), troupe::timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST(future, when_any_gives_the_index_of_the_first_to_complete) {
    std::vector<troupe::promise<int>> ps(3);
    std::vector<troupe::future<int>> fs;
    for (auto& p : ps) {
        fs.push_back(p.get_future());
    }
    auto any = troupe::when_any(fs);
    EXPECT_FALSE(any.ready());
    ps[1].set_value(11);
    EXPECT_EQ(any.get(patience()), 1u);
    ps[0].set_value(10);
    EXPECT_EQ(any.get(), 1u) << "the first completion wins";
    EXPECT_EQ(fs[any.get()].get(), 11);
}

TEST(future, when_any_counts_an_error_as_a_completion) {
    troupe::promise<int> a;
    troupe::promise<int> b;
    std::vector fs{a.get_future(), b.get_future()};
    auto any = troupe::when_any(fs);
    b.set_error(std::runtime_error("b failed"));
    ASSERT_EQ(any.get(patience()), 1u);
    EXPECT_THROW((void)fs[1].get(), std::runtime_error);
}

TEST(future, when_any_of_a_completed_future_is_complete) {
    std::vector fs{troupe::make_ready_future(1)};
    EXPECT_EQ(troupe::when_any(fs).get(0s), 0u);
}

TEST(future, when_any_of_nothing_fails) {
    auto any = troupe::when_any(std::vector<troupe::future<int>>{});
    try {
        (void)any.get(0s);
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "when_any of no futures");
    }
}

// A future is thread-safe: a value set on one thread is read intact on another.
TEST(future, values_cross_threads) {
    constexpr int n = 1000;
    std::vector<troupe::promise<std::string>> ps(n);
    std::vector<troupe::future<std::string>> fs;
    for (auto& p : ps) {
        fs.push_back(p.get_future());
    }
    std::thread setter([&] {
        for (int i = 0; i < n; ++i) {
            ps[i].set_value(std::to_string(i));
        }
    });
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(fs[i].get(patience()), std::to_string(i));
    }
    setter.join();
}

}  // namespace future_tests
