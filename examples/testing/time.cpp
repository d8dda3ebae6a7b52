// Time in a test system: a manual clock that starts at zero and moves only in t.advance(d).
// Timers fire at their deadlines, in order, and the actors run at each deadline, so work that a
// timer starts (another timer, a sleep) happens at the virtual time it would in production.

#include <troupe/async/await.hpp>
#include <troupe/testing/probe.hpp>
#include <troupe/testing/test_system.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;
using example::check;
using troupe::testing::probe;
using troupe::testing::test_system;

struct tick {};

void send_every_fires_once_per_elapsed_period() {
    test_system t;
    probe<tick> p(t);
    troupe::timer every_10ms = t.sys().timers().send_every(p.address(), 10ms, tick{});

    t.advance(9ms);
    p.expect_nothing();
    t.advance(1ms);
    p.expect<tick>();
    p.expect_nothing();

    t.advance(35ms);  // 20, 30 and 40 ms
    for (int i = 0; i < 3; ++i) {
        p.expect<tick>();
    }
    p.expect_nothing();
    check(t.now() == 45ms, "the clock moved by exactly what the test asked");

    every_10ms.cancel();
    t.advance(1s);
    p.expect_nothing();
    check(!t.clock().next_deadline(), "a cancelled timer is gone");
}

struct begin {};
struct stage {
    int n;
};
struct seen {
    int n;
    std::chrono::steady_clock::duration at;
    bool operator==(const seen&) const = default;
};

/// Each stage schedules the next 10 ms later and reports the virtual time it ran at.
class stepper : public troupe::actor {
public:
    stepper(troupe::testing::manual_clock& clock, troupe::address report) : clock_(clock), report_(std::move(report)) {}
    void handle(begin) { handle(stage{0}); }
    void handle(stage s) {
        report_.tell(seen{s.n, clock_.now()});
        if (s.n < 3) {
            self().system().timers().send_after(troupe::ref{this}, 10ms, stage{s.n + 1});
        }
    }

private:
    troupe::testing::manual_clock& clock_;
    troupe::address report_;
};

void advance_runs_the_actors_at_each_deadline() {
    test_system t;
    probe<seen> p(t);
    auto s = t.spawn<stepper>(t.clock(), p.address());
    s.tell(begin{});
    p.expect<seen>(seen{0, 0ms});

    t.advance(25ms);  // stage 1 at 10 ms schedules stage 2 at 20 ms, within the same advance
    p.expect<seen>(seen{1, 10ms});
    p.expect<seen>(seen{2, 20ms});
    p.expect_nothing();
    t.advance(5ms);
    p.expect<seen>(seen{3, 30ms});
    p.expect_nothing();
}

struct nap {
    std::chrono::milliseconds length;
};
class sleeper : public troupe::actor {
public:
    troupe::task<std::string> handle(nap n) {
        co_await troupe::sleep_for(n.length);
        co_return "rested " + std::to_string(n.length.count()) + " ms";
    }
};

void a_coroutine_sleep_ends_only_when_the_clock_is_advanced() {
    test_system t;
    auto s = t.spawn<sleeper>();
    auto rested = s.ask(nap{100ms});
    t.run();
    check(!rested.ready() && t.clock().next_deadline() == 100ms, "the sleep waits for its deadline");

    t.advance(99ms);
    check(!rested.ready(), "99 ms is not enough");
    t.advance(1ms);
    check(t.await(rested) == "rested 100 ms", "at 100 ms the coroutine goes on");

    auto again = s.ask(nap{1h});
    t.run();
    t.stop(s);  // stopping the actor cancels the pending await
    try {
        t.await(again);
        check(false, "the sleep is cancelled");
    } catch (const troupe::cancelled&) {
        check(true, "stopping the actor cancels its sleep");
    }
}

int main() {
    try {
        send_every_fires_once_per_elapsed_period();
        advance_runs_the_actors_at_each_deadline();
        a_coroutine_sleep_ends_only_when_the_clock_is_advanced();
        check(true, "every expectation held");
    } catch (const std::exception& e) {
        check(false, e.what());
    }
    return example::exit_status();
}
