#include <troupe/async/nursery.hpp>

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
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

}  // namespace nursery_tests
