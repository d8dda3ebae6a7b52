#include <troupe/testing/test_system.hpp>

#include <troupe/async/await.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/testing/probe.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using troupe::testing::probe;
using troupe::testing::test_system;

// ---- ping-pong -------------------------------------------------------------------------------

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

TEST(test_system, a_ping_pong_is_checked_message_by_message) {
    test_system t;
    probe<hit, rally_over> referee(t, "referee");
    auto alice = t.spawn<player>("alice", referee.address());
    auto bob = t.spawn<player>("bob", referee.address());
    alice.tell(bob);
    bob.tell(alice);

    alice.tell(serve{4});  // inject; nothing has run yet
    EXPECT_TRUE(referee.empty());

    referee.expect(hit{"alice", 1});
    referee.expect(hit{"bob", 2});
    referee.expect(hit{"alice", 3});
    referee.expect(hit{"bob", 4});
    EXPECT_EQ(referee.expect<rally_over>().hits, 4);
    referee.expect_nothing();
}

TEST(test_system, nothing_runs_until_the_test_runs_it) {
    test_system t;
    probe<hit, rally_over> referee(t);
    auto alice = t.spawn<player>("alice", referee.address());
    alice.tell(serve{1});
    EXPECT_EQ(t.scheduler().pending(), 2u);  // the probe's first turn, then alice's
    EXPECT_TRUE(referee.empty());

    EXPECT_TRUE(t.step());  // the probe starts
    EXPECT_TRUE(t.step());  // alice starts and handles the serve: the hit is on its way
    EXPECT_TRUE(referee.empty());
    EXPECT_EQ(t.scheduler().pending(), 2u);  // the probe has messages; alice had a full turn

    EXPECT_GT(t.run(), 0u);
    EXPECT_EQ(referee.size(), 2u);  // the hit and the end of the rally
    EXPECT_FALSE(t.step());
}

// ---- timers ----------------------------------------------------------------------------------

struct tick {};
struct wake_up {};

TEST(test_system, send_every_fires_once_per_elapsed_period) {
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
    EXPECT_EQ(t.now(), 45ms);

    every_10ms.cancel();
    t.advance(1s);
    p.expect_nothing();
    EXPECT_FALSE(t.clock().next_deadline().has_value());
}

TEST(test_system, send_after_fires_once_at_its_deadline) {
    test_system t;
    probe<tick, wake_up> p(t);
    auto timer = t.sys().timers().send_after(p.address(), 100ms, wake_up{});
    t.sys().timers().send_after(p.address(), 50ms, tick{});
    EXPECT_TRUE(timer.active());
    EXPECT_EQ(t.clock().next_deadline(), 50ms);

    t.advance(99ms);
    p.expect<tick>();
    p.expect_nothing();
    t.advance(1ms);
    p.expect<wake_up>();
    EXPECT_FALSE(timer.active());
    t.advance(1h);
    p.expect_nothing();
}

struct begin {};
struct stage {
    int n;
};
struct seen {
    int stage;
    std::chrono::nanoseconds at;
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

TEST(test_system, advance_runs_the_actors_at_each_deadline_so_chained_timers_keep_their_times) {
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

// ---- coroutines ------------------------------------------------------------------------------

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

TEST(test_system, a_coroutine_sleep_ends_only_when_the_clock_is_advanced) {
    test_system t;
    auto s = t.spawn<sleeper>();
    auto rested = s.ask(nap{100ms});
    t.run();
    EXPECT_FALSE(rested.ready());
    EXPECT_EQ(t.clock().next_deadline(), 100ms);

    t.advance(99ms);
    EXPECT_FALSE(rested.ready());
    t.advance(1ms);
    EXPECT_TRUE(rested.ready());
    EXPECT_EQ(t.await(rested), "rested 100 ms");
}

TEST(test_system, stopping_a_sleeping_actor_cancels_its_sleep) {
    test_system t;
    auto s = t.spawn<sleeper>();
    auto rested = s.ask(nap{1h});
    t.run();
    EXPECT_TRUE(t.stop(s));
    EXPECT_THROW(t.await(rested), troupe::cancelled);
}

// ---- await -----------------------------------------------------------------------------------

struct later {
    using reply_type = int;
};
struct answer {
    int v;
};

/// Keeps the promise of each `later` until an `answer` comes.
class procrastinator : public troupe::actor {
public:
    void handle(later, troupe::promise<int> p) { waiting_.push_back(std::move(p)); }
    void handle(answer a) {
        for (auto& p : waiting_) {
            p.set_value(a.v);
        }
        waiting_.clear();
    }

private:
    std::vector<troupe::promise<int>> waiting_;
};

TEST(test_system, await_runs_turns_until_the_future_is_ready) {
    test_system t;
    auto p = t.spawn<procrastinator>();
    auto f = p.ask(later{});
    p.tell(answer{42});
    EXPECT_EQ(t.await(f), 42);
}

TEST(test_system, await_of_a_future_nothing_will_complete_throws_stuck) {
    test_system t;
    auto p = t.spawn<procrastinator>();
    auto f = p.ask(later{});
    try {
        t.await(f);
        FAIL() << "await returned";
    } catch (const troupe::testing::stuck& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("await(future<int>) would wait for ever"), std::string::npos) << what;
        EXPECT_NE(what.find("no timer is pending"), std::string::npos) << what;
    }
    // The test can still go on: the answer comes, and the same future completes.
    p.tell(answer{7});
    EXPECT_EQ(t.await(f), 7);
}

TEST(test_system, await_of_a_future_that_waits_for_time_names_the_next_timer) {
    test_system t;
    auto s = t.spawn<sleeper>();
    auto rested = s.ask(nap{250ms});
    try {
        t.await(rested);
        FAIL() << "await returned";
    } catch (const troupe::testing::stuck& e) {
        EXPECT_NE(std::string(e.what()).find("a timer is due at 250 ms"), std::string::npos) << e.what();
    }
}

// ---- turn limit ------------------------------------------------------------------------------

struct volley {};

/// Sends every volley back, for ever.
class wall : public troupe::actor {
public:
    void handle(troupe::ref<wall> other) { other_ = std::move(other); }
    void handle(volley) { other_.try_tell(volley{}); }

private:
    troupe::ref<wall> other_;
};

TEST(test_system, an_endless_exchange_hits_the_turn_limit_instead_of_hanging) {
    test_system t;
    t.set_turn_limit(1000);
    auto a = t.spawn<wall>();
    auto b = t.spawn<wall>();
    a.tell(b);
    b.tell(a);
    a.tell(volley{});
    try {
        t.run();
        FAIL() << "run returned";
    } catch (const troupe::testing::stuck& e) {
        EXPECT_NE(std::string(e.what()).find("still busy after 1000 turns"), std::string::npos) << e.what();
    }
    // The destructor still stops both: a stop closes their mailboxes, which ends the exchange.
}

// ---- shutdown --------------------------------------------------------------------------------

/// The thread the test body runs on.
std::thread::id test_thread;

/// Writes its ticks and its stop into a journal, and whether it stopped on the test thread.
class stopper : public troupe::actor {
public:
    stopper(std::string name, troupe_test::journal& j) : name_(std::move(name)), journal_(j) {}
    void handle(tick) { journal_.add(name_ + " tick"); }

protected:
    void on_stop() override {
        journal_.add(name_ + " stopped" + (std::this_thread::get_id() == test_thread ? "" : " elsewhere"));
    }

private:
    std::string name_;
    troupe_test::journal& journal_;
};

TEST(test_system, the_destructor_stops_every_actor_newest_first_on_the_test_thread) {
    test_thread = std::this_thread::get_id();
    troupe_test::journal journal;
    {
        test_system t;
        auto a = t.spawn<stopper>("a", journal);
        t.spawn<stopper>("b", journal);
        t.spawn<stopper>("c", journal);
        a.tell(tick{});                               // queued before the stops: handled first
        t.sys().timers().send_every(a, 1ms, tick{});  // never fires: time does not move
        t.spawn<sleeper>().ask(nap{1h});              // a suspended coroutine, cancelled
    }
    EXPECT_EQ(journal.entries(), (std::vector<std::string>{"a tick", "c stopped", "b stopped", "a stopped"}));
}

/// Starts a successor when it stops, `generations` times over.
class dynasty : public troupe::actor {
public:
    dynasty(int generations, troupe_test::journal& j) : generations_(generations), journal_(j) {}
    void handle(tick) {}

protected:
    void on_stop() override {
        journal_.add("generation " + std::to_string(generations_) + " stopped");
        if (generations_ > 1) {
            self().system().spawn<dynasty>(generations_ - 1, journal_);
        }
    }

private:
    int generations_;
    troupe_test::journal& journal_;
};

TEST(test_system, actors_started_while_shutting_down_are_stopped_too) {
    troupe_test::journal journal;
    {
        test_system t;
        t.spawn<dynasty>(3, journal);
    }
    EXPECT_EQ(journal.entries(),
              (std::vector<std::string>{"generation 3 stopped", "generation 2 stopped", "generation 1 stopped"}));
}

TEST(test_system, an_actor_on_a_dedicated_thread_is_stopped_too) {
    troupe_test::journal journal;
    {
        test_system t;
        troupe::spawn_options own_thread;
        own_thread.dedicated_thread = true;
        auto d = t.spawn<stopper>(own_thread, "dedicated", journal);
        // Its turns run on its own thread, outside the test's control: block on it, with a deadline.
        d.ask(tick{}).get(troupe_test::patience());
    }
    EXPECT_EQ(journal.entries(), (std::vector<std::string>{"dedicated tick", "dedicated stopped elsewhere"}));
}

TEST(test_system, shutdown_is_idempotent_and_ends_the_system) {
    test_system t;
    auto s = t.spawn<sleeper>();
    t.shutdown();
    EXPECT_FALSE(s.alive());
    EXPECT_FALSE(t.sys().running());
    t.shutdown();
    EXPECT_THROW(t.spawn<sleeper>(), troupe::error);
}

// ---- children and monitors -------------------------------------------------------------------

struct work {
    troupe::address report;
};
struct done {
    std::string by;
};

/// Does one piece of work, reports it, and stops itself.
class worker : public troupe::actor {
public:
    void handle(work w) {
        w.report.tell(done{self().name()});
        self().stop();
    }
};

struct hire {};
struct assign {
    std::size_t worker;
};
struct hired {
    std::string name;
};

/// Starts workers as its children and forwards the news of their end to the report address.
class foreman : public troupe::actor {
public:
    explicit foreman(troupe::address report) : report_(std::move(report)) {}
    void handle(hire) {
        crew_.push_back(self().spawn<worker>());
        report_.tell(hired{crew_.back().name()});
    }
    void handle(assign a) { crew_.at(a.worker).tell(work{report_}); }
    void handle(troupe::child_stopped c) { report_.tell(std::move(c)); }

private:
    troupe::address report_;
    std::vector<troupe::ref<worker>> crew_;
};

TEST(test_system, children_and_their_ends_are_observed_step_by_step) {
    test_system t;
    probe<hired, done, troupe::child_stopped> p(t);
    auto boss = t.spawn<foreman>(p.address());

    boss.tell(hire{});
    const std::string first = p.expect<hired>().name;
    boss.tell(hire{});
    const std::string second = p.expect<hired>().name;
    EXPECT_EQ(t.sys().registry().size(), 4u);  // probe, foreman, two workers

    boss.tell(assign{1});
    EXPECT_EQ(p.expect<done>().by, second);
    auto gone = p.expect<troupe::child_stopped>();
    EXPECT_EQ(gone.name, second);
    EXPECT_EQ(gone.reason.what, troupe::exit_reason::kind::normal);
    p.expect_nothing();

    // Stopping the foreman stops its remaining child first; it tells of that child too.
    EXPECT_TRUE(t.stop(boss));
    auto last = p.expect<troupe::child_stopped>();
    EXPECT_EQ(last.name, first);
    EXPECT_EQ(last.reason.what, troupe::exit_reason::kind::stopped);
    p.expect_nothing();
}

struct watch {
    troupe::ref<worker> target;
};

/// Monitors the actors it is told to watch and reports their ends.
class watcher : public troupe::actor {
public:
    explicit watcher(troupe::address report) : report_(std::move(report)) {}
    void handle(watch w) { self().monitor(w.target); }
    void handle(troupe::down d) { report_.tell(std::move(d)); }

private:
    troupe::address report_;
};

TEST(test_system, monitors_get_down_messages_in_the_order_the_actors_end) {
    test_system t;
    probe<done, troupe::down> p(t);
    auto w = t.spawn<watcher>(p.address());
    auto quitter = t.spawn<worker>();
    auto victim = t.spawn<worker>();
    w.tell(watch{quitter});
    w.tell(watch{victim});
    t.run();

    victim.kill();
    auto d1 = p.expect<troupe::down>();
    EXPECT_EQ(d1.id, victim.id());
    EXPECT_EQ(d1.reason.what, troupe::exit_reason::kind::killed);

    quitter.tell(work{p.address()});
    p.expect<done>();
    auto d2 = p.expect<troupe::down>();
    EXPECT_EQ(d2.id, quitter.id());
    EXPECT_EQ(d2.reason.what, troupe::exit_reason::kind::normal);
    p.expect_nothing();
}

}  // namespace
