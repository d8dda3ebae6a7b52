// A first deterministic test: two players hit a ball back and forth and report each hit to a
// referee, a probe. The test injects a serve, then expects the exact hits, one by one. Nothing
// runs until the test runs it, and then only on the test's thread, one turn at a time.

#include <troupe/testing/probe.hpp>
#include <troupe/testing/test_system.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <utility>

#include "../check.hpp"

using example::check;
using troupe::testing::probe;
using troupe::testing::test_system;

struct serve {
    int rallies;
};
struct ball {
    int hit;
    int rallies;
};
struct hit {
    std::string by;
    int n;
    bool operator==(const hit&) const = default;
};
struct rally_over {
    int hits;
};

/// Hits the ball back to its partner and reports each hit; the last hit ends the rally.
class player : public troupe::actor {
public:
    player(std::string who, troupe::address report) : who_(std::move(who)), report_(std::move(report)) {}

    void handle(troupe::ref<player> partner) { partner_ = std::move(partner); }
    void handle(serve s) { handle(ball{0, s.rallies}); }
    void handle(ball b) {
        report_.tell(hit{who_, b.hit + 1});
        if (b.hit + 1 == b.rallies) {
            report_.tell(rally_over{b.rallies});
            return;
        }
        partner_.tell(ball{b.hit + 1, b.rallies});
    }

private:
    std::string who_;
    troupe::address report_;
    troupe::ref<player> partner_;
};

void a_ping_pong_is_checked_message_by_message() {
    test_system t;
    probe<hit, rally_over> referee(t, "referee");
    auto alice = t.spawn<player>("alice", referee.address());
    auto bob = t.spawn<player>("bob", referee.address());
    alice.tell(bob);
    bob.tell(alice);

    alice.tell(serve{4});  // inject; nothing has run yet
    check(referee.empty(), "nothing has run before the test runs it");

    referee.expect(hit{"alice", 1});
    referee.expect(hit{"bob", 2});
    referee.expect(hit{"alice", 3});
    referee.expect(hit{"bob", 4});
    check(referee.expect<rally_over>().hits == 4, "four hits, then the rally is over");
    referee.expect_nothing();
}

void nothing_runs_until_the_test_runs_it() {
    test_system t;
    probe<hit, rally_over> referee(t);
    auto alice = t.spawn<player>("alice", referee.address());
    alice.tell(serve{1});
    check(t.scheduler().pending() == 2, "two actors wait for their first turn: the probe, then alice");
    check(referee.empty(), "the probe has nothing yet");

    t.step();  // the probe starts
    t.step();  // alice starts and handles the serve: the hit is on its way
    check(referee.empty(), "the hit is in the probe's mailbox, not yet handled");
    check(t.scheduler().pending() == 2, "the probe has messages; alice had a full turn and goes again");

    const std::size_t turns = t.run();
    std::cout << "  run() ran " << turns << " more turns\n";
    check(referee.size() == 2, "the hit and the end of the rally");
    check(!t.step(), "nothing is left to run");
}

int main() {
    try {
        a_ping_pong_is_checked_message_by_message();
        nothing_runs_until_the_test_runs_it();
    } catch (const std::exception& e) {
        check(false, e.what());  // a failed expectation throws, with what went wrong
    }
    return example::exit_status();
}
