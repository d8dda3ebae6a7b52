#include <troupe/async/nursery.hpp>

#include <troupe/core/system.hpp>
#include <troupe/testing/test_system.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/test_support.hpp"

namespace nursery_tests {

using namespace std::chrono_literals;
using troupe_test::patience;

troupe::system_options two_workers() {
    return troupe::system_options{.scheduler = {.workers = 2}};
}

struct run_all {};
struct run_failing {};
struct run_cancelled {};
struct run_with_actors {};
struct run_with_failing_actor {};
struct log_of {};

struct finish_now {};
class helper : public troupe::actor {
public:
    void handle(finish_now) { self().stop(); }
    void handle(run_all) { throw std::runtime_error("helper broke"); }
};

class organiser : public troupe::actor {
public:
    troupe::task<int> handle(run_all) {
        int total = 0;
        co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
            n.start(add_later(total, 1, 2ms));
            n.start(add_later(total, 10, 1ms));
            n.start(add_later(total, 100, 0ms));
            co_return;
        });
        co_return total;  // every task has ended
    }
    troupe::task<std::string> handle(run_failing) {
        try {
            co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
                n.start(fail_after_ms(1ms, "first"));
                n.start(wait_long());  // cancelled by the first failure
                co_return;
            });
        } catch (const troupe::error_group& g) {
            co_return std::to_string(g.errors().size()) + " | " + g.what() + " | " + log_.back();
        }
        co_return "no error";
    }
    troupe::task<std::string> handle(run_cancelled) {
        co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
            n.start(wait_long());
            n.start(wait_long());
            co_await troupe::sleep_for(1ms);
            n.cancel();
        });
        co_return "quiet";
    }
    troupe::task<int> handle(run_with_actors) {
        co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
            auto a = n.spawn<helper>();
            auto b = n.spawn<helper>();
            a.tell(finish_now{});
            b.tell(finish_now{});
            co_return;
        });
        co_return 2;  // both helpers have ended
    }
    troupe::task<std::string> handle(run_with_failing_actor) {
        try {
            co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
                n.spawn<helper>().tell(run_all{});  // its handler throws: it fails
                n.start(wait_long());
                co_return;
            });
        } catch (const troupe::error_group& g) {
            try {
                std::rethrow_exception(g.errors().at(0));
            } catch (const troupe::actor_failed& e) {
                co_return e.what();
            }
        }
        co_return "no error";
    }
    std::vector<std::string> handle(log_of) { return log_; }

private:
    troupe::task<void> add_later(int& total, int v, std::chrono::milliseconds d) {
        co_await troupe::sleep_for(d);
        total += v;
    }
    troupe::task<void> fail_after_ms(std::chrono::milliseconds d, std::string what) {
        co_await troupe::sleep_for(d);
        throw std::runtime_error(what);
    }
    troupe::task<void> wait_long() {
        try {
            co_await troupe::sleep_for(60s);
        } catch (const troupe::cancelled&) {
            log_.push_back("long wait cancelled");
            throw;
        }
    }

    std::vector<std::string> log_;
};

TEST(nursery, waits_for_every_task) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    EXPECT_EQ(o.ask(run_all{}).get(patience()), 111);
}

TEST(nursery, the_first_error_cancels_the_rest_and_comes_out_as_a_group) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    EXPECT_EQ(o.ask(run_failing{}).get(patience()),
              "1 | 1 error in a nursery: std::runtime_error: first | long wait cancelled");
}

TEST(nursery, cancel_ends_it_quietly) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    EXPECT_EQ(o.ask(run_cancelled{}).get(patience()), "quiet");
    EXPECT_EQ(o.ask(log_of{}).get(patience()),
              (std::vector<std::string>{"long wait cancelled", "long wait cancelled"}));
}

TEST(nursery, waits_for_its_actors) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    EXPECT_EQ(o.ask(run_with_actors{}).get(patience()), 2);
    EXPECT_EQ(sys.registry().by_type<helper>().size(), 0u);
}

TEST(nursery, an_actor_that_fails_is_an_error_of_the_nursery) {
    troupe_test::log_capture quiet;
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    auto what = o.ask(run_with_failing_actor{}).get(patience());
    EXPECT_NE(what.find("helper#"), std::string::npos) << what;
    EXPECT_NE(what.find("ended: failed: std::runtime_error: helper broke"), std::string::npos) << what;
}

TEST(nursery, stopping_the_actor_cancels_the_nursery_and_waits_for_it) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    auto f = o.ask(run_cancelled{});  // finishes by itself; now one that would wait a minute:
    EXPECT_EQ(f.get(patience()), "quiet");
    auto g = o.ask(run_failing{});
    EXPECT_TRUE(o.stop(patience()));
    // Either it finished before the stop reached it, or the stop cancelled it: never a hang.
    EXPECT_TRUE(g.ready());
}

// The deadlock detector sees every await of a nursery's coroutines, not only the latest: when one
// of them resumes, the others still wait. Here X (reentrancy::none) has two coroutines waiting,
// one for Y and one for Z; Z answers; then Y blocks on an ask of X. X cannot take it until its
// handler ends, which needs Y: a real cycle, reported to Y at once.
struct ask_x;
class cycle_x;
struct answer_slowly {
    troupe::ref<cycle_x> x;
    troupe_test::gate* z_answered;
};
struct answer_now {};
struct poke {};
class cycle_y : public troupe::actor {
public:
    std::string handle(answer_slowly m);
};
class cycle_z : public troupe::actor {
public:
    int handle(answer_now) { return 1; }
};
struct start_cycle {
    troupe::ref<cycle_y> y;
    troupe::ref<cycle_z> z;
};
class cycle_x : public troupe::actor {
public:
    int handle(poke) { return 2; }
    troupe::task<std::string> handle(start_cycle m) {
        std::string from_y;
        troupe_test::gate z_answered;
        co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
            n.start(wait_for_y(m.y, from_y, z_answered));
            n.start(wait_for_z(m.z, z_answered));
            co_return;
        });
        co_return from_y;
    }

private:
    troupe::task<void> wait_for_y(troupe::ref<cycle_y> y, std::string& out, troupe_test::gate& z_answered) {
        // Built before the co_await: GCC 12 destroys temporaries of a braced initializer inside
        // a co_await expression twice (see docs/guide/async.md).
        answer_slowly request{troupe::ref{this}, &z_answered};
        auto reply = y.ask(std::move(request));
        out = co_await std::move(reply);
    }
    troupe::task<void> wait_for_z(troupe::ref<cycle_z> z, troupe_test::gate& z_answered) {
        auto reply = z.ask(answer_now{});
        (void)co_await std::move(reply);
        z_answered.open();  // this await has ended; the one for Y has not
    }
};
std::string cycle_y::handle(answer_slowly m) {
    if (!m.z_answered->wait()) {
        return "z never answered";
    }
    try {
        return "x answered " + std::to_string(m.x.ask(poke{}).get(troupe_test::scaled(5s)));
    } catch (const troupe::deadlock&) {
        return "deadlock";
    } catch (const troupe::timeout&) {
        return "timeout: the cycle was missed";
    }
}

TEST(nursery, the_deadlock_detector_sees_every_await_of_a_nursery) {
    troupe::system sys(troupe::system_options{.scheduler = {.workers = 3}});
    auto x = sys.spawn<cycle_x>();
    auto y = sys.spawn<cycle_y>();
    auto z = sys.spawn<cycle_z>();
    EXPECT_EQ(x.ask(start_cycle{y, z}).get(patience()), "deadlock");
}

// ---- opened from a thread that is not an actor's --------------------------------------------

struct double_it {
    int v;
};
class doubler : public troupe::actor {
public:
    int handle(double_it m) { return m.v * 2; }
};

/// The class or given name of the actor whose turn runs this ("nursery" for "nursery#3").
std::string where() {
    troupe::detail::cell_base* cell = troupe::detail::running_cell();
    if (cell == nullptr) {
        return "no actor";
    }
    const std::string name = cell->name();
    return name.substr(0, name.find('#'));
}

troupe::task<void> ask_double(troupe::ref<doubler> d, int v, std::vector<std::string>& log) {
    troupe::future<int> reply = d.ask(double_it{v});
    const int twice = co_await std::move(reply);
    log.push_back(std::to_string(v) + " doubled is " + std::to_string(twice) + " in " + where());
}

troupe::task<void> sleep_then_log(std::chrono::milliseconds d, std::vector<std::string>& log) {
    co_await troupe::sleep_for(d);
    log.push_back("slept in " + where());
}

troupe::task<void> fail_soon(std::string what) {
    co_await troupe::sleep_for(1ms);
    throw std::runtime_error(what);
}

troupe::task<void> wait_long(std::vector<std::string>& log) {
    try {
        co_await troupe::sleep_for(60s);
    } catch (const troupe::cancelled&) {
        log.push_back("long wait cancelled");
        throw;
    }
}

troupe::task<int> value_after(std::chrono::milliseconds d, int v) {
    co_await troupe::sleep_for(d);
    co_return v;
}

TEST(nursery_from_main, waits_for_its_tasks_and_actors) {
    troupe::system sys(two_workers());
    auto d = sys.spawn<doubler>();
    std::vector<std::string> log;  // written on the nursery's actor, read once it has ended
    troupe::open_nursery(sys, [&](troupe::nursery& n) -> troupe::task<void> {
        n.start(ask_double(d, 1, log));
        n.start(sleep_then_log(1ms, log));
        n.spawn<helper>().tell(finish_now{});  // a child actor the nursery waits for
        co_await ask_double(d, 2, log);
    });
    std::sort(log.begin(), log.end());
    EXPECT_EQ(log,
              (std::vector<std::string>{"1 doubled is 2 in nursery", "2 doubled is 4 in nursery", "slept in nursery"}));
    EXPECT_TRUE(sys.registry().by_type<helper>().empty());
    EXPECT_EQ(sys.registry().size(), 1u) << "only the doubler: the nursery's own actor has ended";
}

TEST(nursery_from_main, its_body_may_own_move_only_state) {
    troupe::system sys(two_workers());
    int seen = 0;
    troupe::open_nursery(sys, [box = std::make_unique<int>(42), &seen](troupe::nursery&) -> troupe::task<void> {
        seen = *box;  // the body lives until the nursery has ended
        co_return;
    });
    EXPECT_EQ(seen, 42);
}

TEST(nursery_from_main, the_first_error_cancels_the_rest_and_reaches_main_as_a_group) {
    troupe::system sys(two_workers());
    std::vector<std::string> log;
    try {
        troupe::open_nursery(sys, [&](troupe::nursery& n) -> troupe::task<void> {
            n.start(fail_soon("first"));
            n.start(wait_long(log));  // cancelled by the first failure
            co_return;
        });
        ADD_FAILURE() << "no error_group";
    } catch (const troupe::error_group& g) {
        EXPECT_EQ(g.errors().size(), 1u);
        EXPECT_STREQ(g.what(), "1 error in a nursery: std::runtime_error: first");
    }
    EXPECT_EQ(log, (std::vector<std::string>{"long wait cancelled"}));
}

TEST(nursery_from_main, one_exception_rethrown_by_several_tasks_is_one_error) {
    troupe::system sys(two_workers());
    troupe::promise<int> shared;
    auto rethrow = [](troupe::future<int> f) -> troupe::task<void> { co_await f; };
    try {
        troupe::open_nursery(sys, [&](troupe::nursery& n) -> troupe::task<void> {
            n.start(rethrow(shared.get_future()));
            n.start(rethrow(shared.get_future()));
            shared.set_error(std::runtime_error("once"));
            co_return;
        });
        ADD_FAILURE() << "no error_group";
    } catch (const troupe::error_group& g) {
        EXPECT_EQ(g.errors().size(), 1u);
        EXPECT_STREQ(g.what(), "1 error in a nursery: std::runtime_error: once");
    }
}

TEST(nursery_from_main, an_actor_that_fails_is_an_error_of_the_nursery) {
    troupe_test::log_capture quiet;
    troupe::system sys(two_workers());
    try {
        troupe::open_nursery(sys, [&](troupe::nursery& n) -> troupe::task<void> {
            n.spawn<helper>().tell(run_all{});  // its handler throws: it fails
            co_return;
        });
        ADD_FAILURE() << "no error_group";
    } catch (const troupe::error_group& g) {
        ASSERT_EQ(g.errors().size(), 1u);
        EXPECT_THROW(std::rethrow_exception(g.errors()[0]), troupe::actor_failed);
    }
}

TEST(nursery_from_main, move_on_after_and_fail_after_work_inside_it) {
    troupe::system sys(two_workers());
    std::optional<int> quick;
    std::optional<int> slow = 0;
    std::string strict;
    troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
        quick = co_await troupe::move_on_after(60s, value_after(1ms, 7));
        slow = co_await troupe::move_on_after(1ms, value_after(60s, 8));
        try {
            co_await troupe::fail_after(1ms, value_after(60s, 9));
        } catch (const troupe::timeout& e) {
            strict = e.what();
        }
    });
    EXPECT_EQ(quick, 7);
    EXPECT_EQ(slow, std::nullopt);
    EXPECT_EQ(strict, "fail_after: the task did not finish in time");
}

TEST(nursery_from_main, on_a_test_system_start_nursery_runs_it_on_the_manual_clock) {
    troupe::testing::test_system t;
    std::vector<std::string> log;
    auto ended = troupe::start_nursery(t.sys(), [&](troupe::nursery& n) -> troupe::task<void> {
        n.start(sleep_then_log(10ms, log));
        std::optional<int> r = co_await troupe::move_on_after(5ms, value_after(20ms, 1));
        log.push_back(r ? "in time" : "gave up at 5 ms");
    });
    t.advance(4ms);
    EXPECT_TRUE(log.empty());
    t.advance(1ms);
    EXPECT_EQ(log, (std::vector<std::string>{"gave up at 5 ms"}));
    EXPECT_FALSE(ended.ready()) << "the sleeping task still runs";
    t.advance(5ms);
    t.await(ended);
    EXPECT_EQ(log, (std::vector<std::string>{"gave up at 5 ms", "slept in nursery"}));
}

TEST(nursery_from_main, the_blocking_form_refuses_a_test_system) {
    troupe::testing::test_system t;
    try {
        troupe::open_nursery(t.sys(), [](troupe::nursery&) -> troupe::task<void> { co_return; });
        ADD_FAILURE() << "no error";
    } catch (const troupe::error& e) {
        EXPECT_NE(std::string(e.what()).find("use troupe::start_nursery(sys, body)"), std::string::npos) << e.what();
    }
    EXPECT_EQ(t.sys().registry().size(), 0u) << "nothing was started";
}

struct open_from_inside {};
class impatient : public troupe::actor {
public:
    std::string handle(open_from_inside) {
        try {
            troupe::open_nursery(self().system(), [](troupe::nursery&) -> troupe::task<void> { co_return; });
        } catch (const troupe::error& e) {
            return e.what();
        }
        return "it blocked a worker";
    }
};

TEST(nursery_from_main, inside_an_actor_the_blocking_form_fails_clearly) {
    troupe::system sys(two_workers());
    auto a = sys.spawn<impatient>();
    EXPECT_EQ(a.ask(open_from_inside{}).get(patience()),
              "troupe::open_nursery(sys, body) is for threads that are not an actor's; inside an actor's coroutine "
              "handler, co_await troupe::open_nursery(body) instead");
}

TEST(nursery_from_main, a_shutdown_meanwhile_cancels_it_and_main_gets_cancelled) {
    troupe::system sys(two_workers());
    std::vector<std::string> log;
    troupe_test::gate waiting;
    std::thread stopper([&] {
        if (waiting.wait()) {
            sys.shutdown();
        }
    });
    EXPECT_THROW(troupe::open_nursery(sys,
                                      [&](troupe::nursery& n) -> troupe::task<void> {
                                          n.start(wait_long(log));
                                          waiting.open();
                                          co_return;
                                      }),
                 troupe::cancelled);
    stopper.join();
    EXPECT_EQ(log, (std::vector<std::string>{"long wait cancelled"}));
}

}  // namespace nursery_tests
