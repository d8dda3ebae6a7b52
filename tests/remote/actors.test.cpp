#include <troupe/remote/actor.hpp>

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/portal.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>
#include <troupe/wire/codec.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/test_support.hpp"
#include "remote/processes.hpp"

// Actors spawned inside child process actors (this executable started again), reached through
// a ref<A> like local ones.

namespace counting {

struct add {
    int n = 0;
};
struct total {};
struct divide {
    int by = 1;
};
struct fail {
    std::string why;
};
struct hang {};
struct whoami {};
/// A message that has no codec: a local actor takes it, another process cannot.
struct local_only {
    std::vector<int>* target = nullptr;
};
TROUPE_RECORD(add, n);
TROUPE_RECORD(total);
TROUPE_RECORD(divide, by);
TROUPE_RECORD(fail, why);
TROUPE_RECORD(hang);
TROUPE_RECORD(whoami);

class counter : public troupe::actor {
public:
    using handles = troupe::handles<add, total, divide, fail, hang, whoami, local_only>;
    counter() = default;
    counter(int start, std::string label) : n_(start), label_(std::move(label)) {}
    explicit counter(std::string label) : label_(std::move(label)) {}  // not exposed

    void handle(add a) { n_ += a.n; }
    int handle(total) const { return n_; }
    int handle(divide d) {
        if (d.by == 0) {
            throw std::invalid_argument("division of " + std::to_string(n_) + " by zero");
        }
        return n_ / d.by;
    }
    void handle(fail f) { throw std::runtime_error(f.why); }
    void handle(hang) { ::pause(); }  // until its process is killed
    /// Its label and its process's pid.
    std::string handle(whoami) const { return label_ + "@" + std::to_string(::getpid()); }
    void handle(local_only l) { l.target->push_back(n_); }

private:
    int n_ = 0;
    std::string label_;
};

/// Exposed to no process: spawning it from elsewhere is refused.
class hidden : public troupe::actor {
public:
    using handles = troupe::handles<total>;
    int handle(total) const { return 0; }
};

}  // namespace counting
TROUPE_EXPOSE_ACTOR(counting::counter, int, std::string);
TROUPE_EXPOSE_ACTOR(counting::counter);

namespace {

using counting::counter;
using troupe_test::patience;

struct watch {
    troupe::ref<counter> target;
};
struct link_with {
    troupe::ref<counter> target;
};
struct fail_now {};

/// Monitors or links to what it is told, and reports each down to an inbox.
class watcher : public troupe::actor {
public:
    explicit watcher(troupe::address report) : report_(std::move(report)) {}
    void handle(watch w) { self().monitor(w.target); }
    void handle(link_with l) { self().link(l.target); }
    void handle(fail_now) { throw std::runtime_error("watcher gave up"); }
    void handle(troupe::down d) { report_.tell(d.reason.describe()); }

private:
    troupe::address report_;
};

class RemoteActor : public troupe_test::process_test {};

TEST_F(RemoteActor, TellAndAskWorkLikeALocalRef) {
    int sum = 0;
    std::string who;
    std::string name;
    bool local = true;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        troupe::ref<counter> c = co_await p.spawn<counter>(10, std::string("tally"));
        local = c.is_local();
        name = c.name();
        for (int i = 1; i <= 100; ++i) {
            c.tell(counting::add{i});
        }
        sum = co_await c.ask(counting::total{});
        who = co_await c.ask(counting::whoami{});
        co_await p.cancel_actor();
    });
    EXPECT_FALSE(local);
    EXPECT_EQ(sum, 10 + 5050) << "every tell arrived before the ask, in order";
    EXPECT_EQ(who.substr(0, 6), "tally@");
    EXPECT_NE(who, "tally@" + std::to_string(::getpid())) << "it runs in the child";
    EXPECT_NE(name.find("host#"), std::string::npos) << name;
    EXPECT_NE(name.find("/counter#"), std::string::npos) << name;
}

TEST_F(RemoteActor, WorksFromAThreadThatIsNoActor) {
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        troupe::spawn_options named;  // not a braced temporary in the co_await: GCC 12 destroys those twice
        named.name = "blocking";
        troupe::ref<counter> c = co_await p.spawn<counter>(named);
        int got = 0;
        std::thread outside([&] {
            c.tell(counting::add{7});
            got = c.ask(counting::total{}).get(patience());
        });
        outside.join();  // blocks this actor: fine in a test
        EXPECT_EQ(got, 7);
        EXPECT_NE(c.name().find("/blocking#"), std::string::npos) << c.name();
        co_await p.cancel_actor();
    });
}

TEST_F(RemoteActor, AHandlersExceptionReachesTheAsker) {
    std::string type;
    std::string message;
    std::string backtrace;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        troupe::ref<counter> c = co_await p.spawn<counter>(3, std::string("x"));
        try {
            (void)co_await c.ask(counting::divide{0});
        } catch (const troupe::remote_actor_error& e) {
            type = e.type();
            message = e.message();
            backtrace = e.backtrace();
        }
        co_await p.cancel_actor();
    });
    EXPECT_EQ(type, "std::invalid_argument");
    EXPECT_EQ(message, "division of 3 by zero");
    // Where it was thrown, by name: the test executables export their symbols (-rdynamic).
    EXPECT_EQ(backtrace.rfind("#0 counting::counter::handle(counting::divide)", 0), 0U) << backtrace;
}

TEST_F(RemoteActor, StopEndsItAndLaterSendsAreRefused) {
    troupe::exit_reason why;
    bool second_stop = true;
    bool refused = false;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        troupe::ref<counter> c = co_await p.spawn<counter>();
        c.tell(counting::add{1});
        EXPECT_TRUE(co_await c.stop_async());
        why = co_await c.exited();
        second_stop = co_await c.stop_async();
        try {
            c.tell(counting::add{1});
        } catch (const troupe::actor_dead&) {
            refused = true;
        }
        EXPECT_THROW((void)c.ask(counting::total{}).get(patience()), troupe::actor_dead);
        co_await p.cancel_actor();
    });
    EXPECT_EQ(why.what, troupe::exit_reason::kind::stopped);
    EXPECT_FALSE(second_stop);
    EXPECT_TRUE(refused);
}

TEST_F(RemoteActor, AFailureThereIsItsExitReasonHere) {
    troupe_test::log_capture quiet;
    troupe::exit_reason why;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        troupe::ref<counter> c = co_await p.spawn<counter>();
        c.tell(counting::fail{"out of patience"});
        why = co_await c.exited();
        co_await p.cancel_actor();
    });
    EXPECT_EQ(why.what, troupe::exit_reason::kind::failed);
    EXPECT_EQ(why.error_type, "std::runtime_error");
    EXPECT_EQ(why.message, "out of patience");
    EXPECT_THROW(std::rethrow_exception(why.error), troupe::remote_actor_error);
}

TEST_F(RemoteActor, KillEndsItAtOnce) {
    troupe::exit_reason why;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        troupe::ref<counter> c = co_await p.spawn<counter>();
        EXPECT_TRUE(c.kill());
        why = co_await c.exited();
        co_await p.cancel_actor();
    });
    EXPECT_EQ(why.what, troupe::exit_reason::kind::killed);
}

TEST_F(RemoteActor, WhenItsProcessDiesAsksFailWithActorDeadAndMonitorsAreTold) {
    troupe_test::log_capture quiet;
    troupe::inbox reports(sys);
    auto w = sys.spawn<watcher>(reports.address());
    std::string in_flight;
    std::string after;
    troupe::exit_reason why;
    try {
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal p = an.start_actor("doomed");
            troupe::ref<counter> c = co_await p.spawn<counter>();
            watch order{c};  // named: GCC 12 destroys a braced temporary in a co_await twice
            co_await w.ask(order);
            c.tell(counting::hang{});
            auto pending = c.ask(counting::total{});  // queued behind the hang: never answered
            troupe_test::kill_process_of(p);
            try {
                (void)co_await pending;
            } catch (const troupe::actor_dead& e) {
                in_flight = e.what();
            }
            why = co_await c.exited();
            try {
                (void)co_await c.ask(counting::total{});
            } catch (const troupe::actor_dead& e) {
                after = e.what();
            }
        });
    } catch (const troupe::error&) {
        // The nursery reports its child's death; what matters here is what the ref said.
    }
    EXPECT_NE(in_flight.find("closed before the ask was answered"), std::string::npos) << in_flight;
    EXPECT_NE(after, "");
    EXPECT_EQ(why.what, troupe::exit_reason::kind::failed);
    EXPECT_EQ(why.error_type, "troupe::actor_dead");
    const std::string down = reports.receive<std::string>(patience());
    EXPECT_NE(down.find("failed: troupe::actor_dead"), std::string::npos) << down;
}

TEST_F(RemoteActor, ALinkTellsEachSideOfTheOthersFailure) {
    troupe_test::log_capture quiet;
    troupe::inbox reports(sys);
    troupe::exit_reason local_end;
    troupe::exit_reason remote_end;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        // The remote one fails: the linked local actor fails too.
        troupe::ref<counter> c = co_await p.spawn<counter>();
        auto w = sys.spawn<watcher>(reports.address());
        link_with order{c};  // named: GCC 12 destroys a braced temporary in a co_await twice
        co_await w.ask(order);
        c.tell(counting::fail{"gone wrong"});
        local_end = co_await w.exited();
        // The local one fails: the linked remote actor (with no handle(exit_signal)) fails too.
        troupe::ref<counter> c2 = co_await p.spawn<counter>();
        auto w2 = sys.spawn<watcher>(reports.address());
        link_with order2{c2};
        co_await w2.ask(order2);
        w2.tell(fail_now{});
        remote_end = co_await c2.exited();
        co_await p.cancel_actor();
    });
    EXPECT_EQ(local_end.what, troupe::exit_reason::kind::failed);
    EXPECT_EQ(local_end.error_type, "troupe::linked_failure");
    EXPECT_EQ(remote_end.what, troupe::exit_reason::kind::failed);
    EXPECT_EQ(remote_end.error_type, "troupe::linked_failure");
}

TEST_F(RemoteActor, BadRequestsAreClearErrors) {
    std::string not_exposed;
    std::string bad_arguments;
    std::string no_codec;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        try {
            (void)co_await p.spawn<counting::hidden>();
        } catch (const troupe::remote_actor_error& e) {
            not_exposed = e.type() + ": " + e.message();
        }
        try {  // counter is exposed with (int, std::string) and (), not with its (std::string)
            (void)co_await p.spawn<counter>(std::string("a"));
        } catch (const troupe::remote_actor_error& e) {
            bad_arguments = e.type();
        }
        troupe::ref<counter> c = co_await p.spawn<counter>();
        std::vector<int> seen;
        try {
            c.tell(counting::local_only{&seen});
        } catch (const troupe::error& e) {
            no_codec = e.what();
        }
        co_await p.cancel_actor();
    });
    EXPECT_NE(not_exposed.find("troupe::not_exposed"), std::string::npos) << not_exposed;
    EXPECT_NE(not_exposed.find("counting::hidden"), std::string::npos) << not_exposed;
    EXPECT_EQ(bad_arguments, "troupe::wire::decode_error");
    EXPECT_NE(no_codec.find("has no troupe::codec"), std::string::npos) << no_codec;
}

TEST_F(RemoteActor, ItIsStoppedWhenItsProcessActorIsCancelled) {
    // The process acknowledges its cancel only once its hosted actors' ends are on their way.
    troupe::exit_reason why;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("host");
        troupe::ref<counter> c = co_await p.spawn<counter>();
        co_await p.cancel_actor();
        why = co_await c.exited();
    });
    EXPECT_EQ(why.what, troupe::exit_reason::kind::stopped) << why.describe();
}

}  // namespace

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
