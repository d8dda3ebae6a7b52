// Probes: a probe is an actor of the test system that keeps what it is sent until the test
// expects it: by type, by value or with a predicate. A failed expectation throws
// troupe::testing::expectation_failed, whose text says what arrived instead; this program prints
// each kind. A probe can also monitor an actor.

#include <troupe/testing/probe.hpp>
#include <troupe/testing/test_system.hpp>

#include <exception>
#include <iostream>
#include <ostream>
#include <string>
#include <utility>

#include "../check.hpp"

namespace app {

struct pong {
    int n;
    bool operator==(const pong&) const = default;
};
/// With an operator<<, a failed expectation shows the values.
std::ostream& operator<<(std::ostream& out, const pong& p) {
    return out << "pong{" << p.n << "}";
}
struct other {};
struct ping {
    int n;
    troupe::address reply_to;
};

/// Answers each ping with a pong of the same number.
class ponger : public troupe::actor {
public:
    void handle(ping p) { p.reply_to.tell(pong{p.n}); }
};

}  // namespace app

using app::other;
using app::ping;
using app::pong;
using app::ponger;
using example::check;
using troupe::testing::probe;
using troupe::testing::test_system;

void expect_with_a_value_or_a_predicate() {
    test_system t;
    probe<pong> p(t);
    auto a = t.spawn<ponger>();
    for (int i = 1; i <= 3; ++i) {
        a.tell(ping{i, p.address()});
    }
    p.expect(pong{1});
    p.expect<pong>([](const pong& m) { return m.n % 2 == 0; });
    check(p.expect<pong>([](const pong& m) { return m.n > 2; }).n == 3, "by value, then by predicate, in order");
}

using pong_probe = probe<pong, other>;

/// Runs `test` with a fresh probe, probe#1, and prints the expectation it fails.
template <class Test>
void show_failure(Test test) {
    test_system t;
    pong_probe p(t);
    try {
        test(p);
        check(false, "the expectation fails");
    } catch (const troupe::testing::expectation_failed& e) {
        std::cout << e.what() << '\n';
    }
}

void failed_expectations_say_what_arrived() {
    show_failure([](pong_probe& p) {
        p.address().tell(other{});
        p.expect<pong>();
    });
    show_failure([](pong_probe& p) {
        p.address().tell(pong{4});
        p.expect(pong{3});
    });
    show_failure([](pong_probe& p) {
        p.address().tell(pong{4});
        p.expect<pong>([](const pong& m) { return m.n % 2 == 1; });
    });
    show_failure([](pong_probe& p) {
        p.address().tell(pong{4});
        p.address().tell(other{});
        p.expect_nothing();
    });
    show_failure([](pong_probe& p) { p.expect<pong>(); });
}

void a_failed_expectation_leaves_the_message_queued() {
    test_system t;
    probe<pong> p(t);
    p.address().tell(pong{4});
    try {
        p.expect(pong{3});
    } catch (const troupe::testing::expectation_failed&) {}
    check(p.expect(pong{4}).n == 4, "a message that fails an expectation stays queued");
}

void a_probe_monitors_an_actor() {
    test_system t;
    probe<troupe::down> p(t);
    auto a = t.spawn<ponger>();
    p.monitor(a);
    t.run();
    check(p.empty(), "no down while the actor lives");
    t.stop(a);
    auto d = p.expect<troupe::down>();
    check(d.id == a.id() && d.reason.what == troupe::exit_reason::kind::stopped, "the probe got the down");
}

int main() {
    try {
        expect_with_a_value_or_a_predicate();
        failed_expectations_say_what_arrived();
        a_failed_expectation_leaves_the_message_queued();
        a_probe_monitors_an_actor();
    } catch (const std::exception& e) {
        check(false, e.what());
    }
    return example::exit_status();
}
