#include <troupe/async/task.hpp>

#include <troupe/async/await.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/test_support.hpp"

namespace {

using troupe_test::patience;

static_assert(!std::is_copy_constructible_v<troupe::task<int>>);
static_assert(std::is_nothrow_move_constructible_v<troupe::task<int>>);

troupe::task<int> forty_two() {
    co_return 42;
}
troupe::task<int> plus_one(int x) {
    co_return x + 1;
}
troupe::task<int> chain() {
    int a = co_await forty_two();
    int b = co_await plus_one(a);
    co_return b;
}
troupe::task<void> throws() {
    throw std::logic_error("nope");
    co_return;
}

struct run_chain {};
struct run_throwing {};
struct count_starts {};
struct thread_of {};

/// Nested tasks run inside a handler, on the actor's thread.
class runner : public troupe::actor {
public:
    troupe::task<int> handle(run_chain) { co_return co_await chain(); }
    troupe::task<std::string> handle(run_throwing) {
        try {
            co_await throws();
        } catch (const std::logic_error& e) {
            co_return std::string("caught ") + e.what();
        }
        co_return "not caught";
    }
    troupe::task<bool> handle(thread_of) {
        auto before = std::this_thread::get_id();
        co_await troupe::sleep_for(std::chrono::milliseconds(1));
        co_await forty_two();
        // One actor, one handler at a time: the thread may change between turns, but the
        // coroutine is never resumed outside a turn of this actor.
        (void)before;
        co_return troupe::detail::running_cell() != nullptr;
    }
};

TEST(task, nested_tasks_give_their_values) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 2}});
    auto r = sys.spawn<runner>();
    EXPECT_EQ(r.ask(run_chain{}).get(patience()), 43);
}

TEST(task, an_awaited_task_rethrows_into_its_awaiter) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 2}});
    auto r = sys.spawn<runner>();
    EXPECT_EQ(r.ask(run_throwing{}).get(patience()), "caught nope");
}

TEST(task, a_coroutine_resumes_inside_its_actors_turn) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 2}});
    auto r = sys.spawn<runner>();
    EXPECT_TRUE(r.ask(thread_of{}).get(patience()));
}

TEST(task, a_task_is_lazy_and_its_frame_is_freed_unrun) {
    int started = 0;
    auto make = [&]() -> troupe::task<int> {
        ++started;
        co_return 1;
    };
    {
        auto t = make();
        EXPECT_TRUE(static_cast<bool>(t));
        EXPECT_EQ(started, 0);
    }
    EXPECT_EQ(started, 0);
}

}  // namespace
