#include <troupe/testing/manual_scheduler.hpp>

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

using troupe::testing::manual_scheduler;

/// A job that writes its name into a shared list each time it runs.
class named_job final : public troupe::detail::job {
public:
    named_job(std::string name, std::vector<std::string>& ran) : name_(std::move(name)), ran_(ran) {}
    void run_job() noexcept override { ran_.push_back(name_); }

private:
    std::string name_;
    std::vector<std::string>& ran_;
};

TEST(manual_scheduler, runs_nothing_until_asked_then_one_turn_at_a_time_in_fifo_order) {
    manual_scheduler s;
    std::vector<std::string> ran;
    named_job a("a", ran);
    named_job b("b", ran);
    EXPECT_FALSE(s.run_one());

    s.schedule(&a);
    s.schedule(&b);
    EXPECT_EQ(s.pending(), 2u);
    EXPECT_TRUE(ran.empty());

    EXPECT_TRUE(s.run_one());
    EXPECT_EQ(ran, std::vector<std::string>{"a"});
    s.yield(&a);  // as a turn that used up its batch does: behind b
    EXPECT_EQ(s.run_until_idle(), 2u);
    EXPECT_EQ(ran, (std::vector<std::string>{"a", "b", "a"}));
    EXPECT_EQ(s.pending(), 0u);
    EXPECT_EQ(s.turns(), 3u);
}

TEST(manual_scheduler, run_until_idle_stops_at_its_limit) {
    manual_scheduler s;
    std::vector<std::string> ran;
    named_job a("a", ran);
    named_job b("b", ran);
    s.schedule(&a);
    s.schedule(&b);
    EXPECT_EQ(s.run_until_idle(1), 1u);
    EXPECT_EQ(s.pending(), 1u);
    EXPECT_EQ(s.run_until_idle(), 1u);
}

TEST(manual_scheduler, other_threads_may_schedule) {
    manual_scheduler s;
    std::vector<std::string> ran;
    std::vector<named_job> jobs;
    jobs.reserve(200);
    for (int i = 0; i < 200; ++i) {
        jobs.emplace_back("j", ran);
    }
    std::thread t1([&] {
        for (int i = 0; i < 100; ++i) {
            s.schedule(&jobs[i]);
        }
    });
    std::thread t2([&] {
        for (int i = 100; i < 200; ++i) {
            s.schedule(&jobs[i]);
        }
    });
    t1.join();
    t2.join();
    EXPECT_EQ(s.pending(), 200u);
    EXPECT_EQ(s.run_until_idle(), 200u);
    EXPECT_EQ(ran.size(), 200u);
}

struct hello {};
struct count {};

class counter : public troupe::actor {
public:
    void handle(hello) { ++n_; }
    int handle(count) { return n_; }

private:
    int n_ = 0;
};

TEST(manual_scheduler, a_system_on_it_runs_actors_only_in_the_turns_the_test_runs) {
    manual_scheduler s;
    troupe::system_options options;
    options.executor = &s;
    options.scheduler.batch = 1;
    troupe::system sys(options);
    auto c = sys.spawn<counter>();
    c.tell(hello{});
    c.tell(hello{});
    auto n = c.ask(count{});
    EXPECT_EQ(s.pending(), 1u);  // one actor, however many messages

    EXPECT_TRUE(s.run_one());  // on_start and the first hello
    EXPECT_FALSE(n.ready());
    EXPECT_TRUE(s.run_one());  // the second hello
    EXPECT_FALSE(n.ready());
    EXPECT_TRUE(s.run_one());  // the count
    ASSERT_TRUE(n.ready());
    EXPECT_EQ(n.get(), 2);

    // system::shutdown() waits for the stops: run them first, here.
    sys.registry().request_stop_all();
    s.run_until_idle();
    EXPECT_EQ(sys.registry().size(), 0u);
}

struct nested {
    manual_scheduler* s;
};

class meddler : public troupe::actor {
public:
    bool handle(nested n) {
        try {
            n.s->run_one();
        } catch (const troupe::error&) {
            return true;
        }
        return false;
    }
};

TEST(manual_scheduler, refuses_to_run_a_turn_from_inside_a_turn) {
    manual_scheduler s;
    troupe::system_options options;
    options.executor = &s;
    troupe::system sys(options);
    auto m = sys.spawn<meddler>();
    auto refused = m.ask(nested{&s});
    s.run_until_idle();
    EXPECT_TRUE(refused.get());
    sys.registry().request_stop_all();
    s.run_until_idle();
}

}  // namespace
