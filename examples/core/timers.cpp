// Timers: a message after a delay, a message every period (cancellable), a function after a
// delay. An inbox collects what the actor forwards.

#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <syncstream>

#include "../check.hpp"

using namespace std::chrono_literals;

struct tick {
    int n;
};

/// Forwards every tick to an address.
class relay : public troupe::actor {
public:
    explicit relay(troupe::address to) : to_(std::move(to)) {}
    void handle(tick t) { to_.tell(t); }

private:
    troupe::address to_;
};

using example::check;

int main() {
    troupe::system sys;
    troupe::inbox inbox(sys);
    auto r = sys.spawn<relay>(inbox.address());

    // Once, after a delay.
    sys.timers().send_after(r, 20ms, tick{1});
    check(inbox.receive<tick>(5s).n == 1, "send_after() delivers once");

    // Every period until cancelled (or until the target stops).
    troupe::timer every = sys.timers().send_every(r, 5ms, tick{2});
    for (int i = 0; i < 3; ++i) {
        check(inbox.receive<tick>(5s).n == 2, "send_every() delivers again and again");
    }
    every.cancel();
    check(!every.active(), "cancel() stops a timer");

    // A function on the timer thread: keep it short, send a message for real work.
    sys.timers().after(10ms, [to = inbox.address()] { to.tell(std::string("ding")); });
    check(inbox.receive<std::string>(5s) == "ding", "after() runs a function");
    return example::exit_status();
}
