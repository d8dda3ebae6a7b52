// Bounded mailboxes: what a message that finds the mailbox full does depends on the policy.

#include <troupe/troupe.hpp>

#include <iostream>
#include <syncstream>
#include <utility>

#include "../check.hpp"

/// Holds the actor busy: tells `started`, then waits for `gate`.
struct hold {
    troupe::promise<void> started;
    troupe::future<void> gate;
};
struct job {
    int n;
};

class accumulator : public troupe::actor {
public:
    explicit accumulator(int& sum_at_stop) : sum_at_stop_(sum_at_stop) {}

    void handle(hold h) {
        h.started.set_value();
        h.gate.wait();
    }
    void handle(job j) { sum_ += j.n; }

protected:
    void on_stop() override { sum_at_stop_ = sum_; }

private:
    int sum_ = 0;
    int& sum_at_stop_;
};

/// Spawns an accumulator with room for 2 messages and returns it busy, with its mailbox empty.
static troupe::ref<accumulator> spawn_busy(troupe::system& sys, troupe::overflow policy, troupe::future<void> gate,
                                           int& sum) {
    troupe::spawn_options options;
    options.mailbox.capacity = 2;
    options.mailbox.on_overflow = policy;
    options.dedicated_thread = true;  // its handler blocks
    auto a = sys.spawn<accumulator>(options, sum);
    troupe::promise<void> started;
    auto busy = started.get_future();
    a.tell(hold{std::move(started), std::move(gate)});
    busy.wait();
    return a;
}

using example::check;

int main() {
    troupe::system sys;

    // fail (the default): a tell throws mailbox_full, an ask gets a failed future.
    troupe::promise<void> gate;
    int sum = 0;
    auto strict = spawn_busy(sys, troupe::overflow::fail, gate.get_future(), sum);
    strict.tell(job{1});
    strict.tell(job{2});
    try {
        strict.tell(job{4});
        check(false, "a full mailbox refuses a tell");
    } catch (const troupe::mailbox_full& e) {
        std::cout << "  (" << e.what() << ")\n";
        check(true, "a full mailbox refuses a tell with mailbox_full");
    }
    check(strict.ask(job{8}).failed(), "a full mailbox fails an ask");
    gate.set_value();
    strict.stop();  // the stop is not counted against the bound: it always gets in
    check(sum == 3, "the messages that fitted were handled");

    // drop_oldest: every message gets in; the oldest go to dead letters to make room.
    troupe::promise<void> gate2;
    auto recent = spawn_busy(sys, troupe::overflow::drop_oldest, gate2.get_future(), sum);
    for (int n : {1, 2, 4, 8}) {
        recent.tell(job{n});
    }
    gate2.set_value();
    recent.stop();
    check(sum == 12, "drop_oldest keeps the newest messages");
    check(sys.dead_letters() == 2, "the dropped messages are dead letters");
    return example::exit_status();
}
