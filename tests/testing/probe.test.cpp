#include <troupe/testing/probe.hpp>

#include <troupe/core/exit_reason.hpp>
#include <troupe/testing/test_system.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>

namespace probe_test {

using namespace std::chrono_literals;
using troupe::testing::expectation_failed;
using troupe::testing::probe;
using troupe::testing::test_system;

struct ping {
    int n;
    troupe::address reply_to;
};
struct pong {
    int n;
    bool operator==(const pong&) const = default;
};
std::ostream& operator<<(std::ostream& os, const pong& p) {
    return os << "pong{" << p.n << "}";
}
/// Equality but no operator<<.
struct quiet {
    int n;
    bool operator==(const quiet&) const = default;
};
struct other {};

/// Answers each ping with a pong to its reply_to address.
class ponger : public troupe::actor {
public:
    void handle(ping p) { p.reply_to.tell(pong{p.n}); }
};

/// Checks that `f` throws troupe::testing::expectation_failed with `part` in its text.
template <class F>
void expect_failure(F f, const std::string& part) {
    std::string what;
    try {
        f();
    } catch (const expectation_failed& e) {
        what = e.what();
    }
    EXPECT_NE(what.find(part), std::string::npos) << "the error: \"" << what << "\"\nshould contain: \"" << part << '"';
}

TEST(probe, expect_returns_the_messages_in_the_order_they_arrived) {
    test_system t;
    probe<pong> p(t);
    auto a = t.spawn<ponger>();
    a.tell(ping{1, p});
    a.tell(ping{2, p});
    EXPECT_EQ(p.expect<pong>().n, 1);
    EXPECT_EQ(p.expect<pong>().n, 2);
    p.expect_nothing();
}

TEST(probe, expect_with_a_value_or_a_predicate) {
    test_system t;
    probe<pong> p(t);
    auto a = t.spawn<ponger>();
    for (int i = 1; i <= 3; ++i) {
        a.tell(ping{i, p.address()});
    }
    p.expect(pong{1});
    p.expect<pong>([](const pong& m) { return m.n % 2 == 0; });
    EXPECT_EQ(p.expect<pong>([](const pong& m) { return m.n > 2; }).n, 3);
}

TEST(probe, a_typed_ref_reaches_it_too) {
    test_system t;
    probe<pong, other> p(t);
    p.ref().tell(other{});
    p.ref().tell(pong{5});
    p.expect<other>();
    p.expect(pong{5});
}

TEST(probe, another_type_fails_naming_what_arrived) {
    test_system t;
    probe<pong, other> p(t, "inspector");
    p.ref().tell(other{});
    p.ref().tell(pong{1});
    expect_failure([&] { p.expect<pong>(); },
                   "inspector#1 expected a message of type probe_test::pong, but the next one is of type "
                   "probe_test::other (queued: probe_test::other)");
    // A failed expectation takes nothing: the message is still there.
    p.expect<other>();
    p.expect<pong>();
}

TEST(probe, another_value_fails_showing_both_when_printable) {
    test_system t;
    probe<pong, quiet> p(t);
    p.ref().tell(pong{4});
    expect_failure([&] { p.expect(pong{3}); }, "expected the probe_test::pong message pong{3}, but got pong{4}");
    expect_failure([&] { p.expect<pong>([](const pong& m) { return m.n == 6; }); },
                   "expected a message of type probe_test::pong that matches the predicate, but got pong{4}, which "
                   "does not");
    p.expect(pong{4});
    p.ref().tell(quiet{4});
    expect_failure([&] { p.expect(quiet{3}); },
                   "expected a message of type probe_test::quiet equal to the given one, but got one that differs");
}

TEST(probe, nothing_arriving_fails_when_the_system_is_idle) {
    test_system t;
    probe<pong> p(t);
    expect_failure([&] { p.expect<pong>(); },
                   "probe#1's expect<probe_test::pong>() would wait for ever: no message arrived, and no actor has "
                   "anything to do (now = 0 s; no timer is pending: a deadlock in the test?)");
}

TEST(probe, expect_nothing_fails_listing_what_is_there) {
    test_system t;
    probe<pong, other> p(t);
    p.ref().tell(pong{1});
    p.ref().tell(other{});
    expect_failure([&] { p.expect_nothing(); },
                   "probe#1 expected nothing, but 2 messages are queued: probe_test::pong, probe_test::other");
}

TEST(probe, expect_does_not_advance_time) {
    test_system t;
    probe<pong> p(t);
    t.sys().timers().send_after(p.address(), 10ms, pong{1});
    expect_failure([&] { p.expect<pong>(); }, "a timer is due at 10 ms: advance() the clock");
    t.advance(10ms);
    p.expect(pong{1});
}

TEST(probe, a_probe_monitors_an_actor) {
    test_system t;
    probe<troupe::down> p(t);
    auto a = t.spawn<ponger>();
    p.monitor(a);
    t.run();
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(t.stop(a));
    auto d = p.expect<troupe::down>();
    EXPECT_EQ(d.id, a.id());
    EXPECT_EQ(d.reason.what, troupe::exit_reason::kind::stopped);
}

}  // namespace probe_test
