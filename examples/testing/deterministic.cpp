// Testing actors deterministically: a test system runs the actors on the test's thread, only
// when the test says so, and time moves only when the test advances the clock. No sleeps, no
// flaky timeouts: this program gives the same output on every run.

#include <troupe/async/await.hpp>
#include <troupe/testing/probe.hpp>
#include <troupe/testing/test_system.hpp>

#include <chrono>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

/// A heartbeat: a beat to its listener every period, numbered from 1.
struct beat {
    int n;
    bool operator==(const beat&) const = default;
};
struct tick {};

class heartbeat : public troupe::actor {
public:
    heartbeat(troupe::address listener, std::chrono::milliseconds period)
        : listener_(std::move(listener)), period_(period) {}
    void handle(tick) { listener_.tell(beat{++beats_}); }

protected:
    void on_start() override { timer_ = self().system().timers().send_every(troupe::ref{this}, period_, tick{}); }
    void on_stop() override { timer_.cancel(); }

private:
    troupe::address listener_;
    std::chrono::milliseconds period_;
    troupe::timer timer_;
    int beats_ = 0;
};

/// A kettle: boiling takes three minutes of (virtual) time.
struct boil {
    std::string what;
};

class kettle : public troupe::actor {
public:
    troupe::task<std::string> handle(boil b) {
        co_await troupe::sleep_for(3min);
        co_return b.what + " is ready";
    }
};

int main() {
    try {
        troupe::testing::test_system t;

        // A probe stands in for the listener; expect() runs the system until a message arrives.
        troupe::testing::probe<beat> listener(t);
        auto h = t.spawn<heartbeat>(listener.address(), 1000ms);
        t.advance(3500ms);  // beats at 1 s, 2 s and 3 s
        for (int n = 1; n <= 3; ++n) {
            listener.expect(beat{n});
        }
        listener.expect_nothing();
        std::cout << "3 beats in 3.5 s of virtual time\n";
        t.stop(h);  // ref::stop() would block the only thread that runs the actors: stop through t

        // A coroutine handler waits for virtual time; await() runs the turns that answer.
        auto k = t.spawn<kettle>();
        auto tea = k.ask(boil{"tea"});
        t.advance(179s);
        if (tea.ready()) {
            throw troupe::error("the tea was ready before three minutes");
        }
        std::cout << "after 2:59 the tea is not ready\n";
        t.advance(1s);
        std::cout << t.await(tea) << " at " << std::chrono::duration<double>(t.now()).count() << " s\n";

        // Awaiting what will never come fails at once with a readable reason instead of hanging.
        try {
            t.await(k.ask(boil{"coffee"}));
            throw troupe::error("the coffee was ready without time passing");
        } catch (const troupe::testing::stuck& e) {
            std::cout << "stuck, as expected: " << e.what() << '\n';
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "failed: " << e.what() << '\n';
        return 1;
    }
}
