#include <troupe/async/cancel_scope.hpp>

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "core/test_support.hpp"

namespace cancel_scope_tests {

using namespace std::chrono_literals;
using troupe_test::patience;

struct quick {};
struct slow {};
struct strict {};
struct inner_first {};

class timed : public troupe::actor {
public:
    troupe::task<std::string> handle(quick) {
        std::optional<int> r = co_await troupe::move_on_after(60s, value_after(1ms, 7));
        co_return r ? "got " + std::to_string(*r) : "gave up";
    }
    troupe::task<std::string> handle(slow) {
        std::optional<int> r = co_await troupe::move_on_after(1ms, value_after(60s, 7));
        co_return r ? "got " + std::to_string(*r) : "gave up, " + unwound_;
    }
    troupe::task<std::string> handle(strict) {
        try {
            co_await troupe::fail_after(1ms, value_after(60s, 1));
        } catch (const troupe::timeout& e) {
            co_return std::string("timeout: ") + e.what();
        }
        co_return "in time";
    }
    troupe::task<std::string> handle(inner_first) {
        // Nested deadlines: the inner one passes first and only its task gives up.
        auto outer = co_await troupe::move_on_after(60s, inner());
        co_return outer ? *outer : "outer gave up";
    }

private:
    troupe::task<int> value_after(std::chrono::milliseconds d, int v) {
        try {
            co_await troupe::sleep_for(d);
        } catch (const troupe::cancelled&) {
            unwound_ = "unwound";
            throw;
        }
        co_return v;
    }
    troupe::task<std::string> inner() {
        bool done =
            co_await troupe::move_on_after(1ms, [this]() -> troupe::task<void> { co_await value_after(60s, 0); }());
        co_return done ? "inner finished" : "inner gave up";
    }

    std::string unwound_ = "not unwound";
};

TEST(cancel_scope, move_on_after_gives_the_result_in_time) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 2}});
    EXPECT_EQ(sys.spawn<timed>().ask(quick{}).get(patience()), "got 7");
}

TEST(cancel_scope, move_on_after_cancels_a_slow_task_and_waits_for_it_to_unwind) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 2}});
    EXPECT_EQ(sys.spawn<timed>().ask(slow{}).get(patience()), "gave up, unwound");
}

TEST(cancel_scope, fail_after_throws_timeout) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 2}});
    EXPECT_EQ(sys.spawn<timed>().ask(strict{}).get(patience()), "timeout: fail_after: the task did not finish in time");
}

TEST(cancel_scope, an_inner_deadline_cancels_only_its_own_task) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 2}});
    EXPECT_EQ(sys.spawn<timed>().ask(inner_first{}).get(patience()), "inner gave up");
}

}  // namespace cancel_scope_tests
