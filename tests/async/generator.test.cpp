#include <troupe/async/generator.hpp>

#include <troupe/async/cancel_scope.hpp>
#include <troupe/async/nursery.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/system.hpp>
#include <troupe/testing/probe.hpp>
#include <troupe/testing/test_system.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/test_support.hpp"

namespace generator_tests {

using namespace std::chrono_literals;
using troupe::testing::probe;
using troupe::testing::test_system;
using troupe_test::patience;

troupe::system_options two_workers() {
    return troupe::system_options{.scheduler = {.workers = 2}};
}

using journal = std::vector<std::string>;

/// Writes "<name> destroyed" to a journal when it goes, unless moved from: a generator's
/// parameter, to see when its frame is destroyed.
class tracer {
public:
    tracer(journal& log, std::string name) : log_(&log), name_(std::move(name)) {}
    tracer(tracer&& o) noexcept : log_(std::exchange(o.log_, nullptr)), name_(std::move(o.name_)) {}
    tracer& operator=(tracer&&) = delete;
    ~tracer() {
        if (log_ != nullptr) {
            log_->push_back(name_ + " destroyed");
        }
    }

private:
    journal* log_;
    std::string name_;
};

struct double_it {
    int v;
};
class doubler : public troupe::actor {
public:
    int handle(double_it m) { return m.v * 2; }
};

// ---- values, laziness, awaits between yields ---------------------------------------------------

struct count {
    int n;
};
struct doubles {
    int n;
};
struct chained {
    int n;
};

class consumer : public troupe::actor {
public:
    explicit consumer(troupe::ref<doubler> d) : d_(std::move(d)) {}

    troupe::task<journal> handle(count c) {
        journal log;
        troupe::generator<int> gen = count_to(c.n, log);
        log.push_back("made");
        while (std::optional<int> v = co_await gen.next()) {
            log.push_back(std::to_string(*v));
        }
        std::optional<int> again = co_await gen.next();
        log.push_back(again ? "more" : "still ended");
        co_return log;
    }
    troupe::task<std::vector<int>> handle(doubles d) {
        std::vector<int> out;
        troupe::generator<int> gen = doubled(d.n);
        while (std::optional<int> v = co_await gen.next()) {
            out.push_back(*v);
        }
        co_return out;
    }
    troupe::task<std::vector<int>> handle(chained c) {
        std::vector<int> out;
        troupe::generator<int> gen = plus_one(doubled(c.n));
        while (std::optional<int> v = co_await gen.next()) {
            out.push_back(*v);
        }
        co_return out;
    }

private:
    troupe::generator<int> count_to(int n, journal& log) {
        log.push_back("body starts");
        for (int i = 1; i <= n; ++i) {
            co_yield i;
        }
        log.push_back("body ends");
    }
    /// Asks another actor between yields.
    troupe::generator<int> doubled(int n) {
        for (int i = 1; i <= n; ++i) {
            troupe::future<int> reply = d_.ask(double_it{i});
            const int v = co_await std::move(reply);
            co_yield v;
        }
    }
    /// Pulls from another generator and awaits a task between yields.
    troupe::generator<int> plus_one(troupe::generator<int> inner) {
        while (std::optional<int> v = co_await inner.next()) {
            const int w = co_await add_one(*v);
            co_yield w;
        }
    }
    troupe::task<int> add_one(int v) { co_return v + 1; }

    troupe::ref<doubler> d_;
};

TEST(generator, gives_its_values_in_order_and_starts_only_at_the_first_next) {
    troupe::system sys(two_workers());
    auto c = sys.spawn<consumer>(sys.spawn<doubler>());
    EXPECT_EQ(c.ask(count{3}).get(patience()),
              (journal{"made", "body starts", "1", "2", "3", "body ends", "still ended"}));
    EXPECT_EQ(c.ask(count{0}).get(patience()), (journal{"made", "body starts", "body ends", "still ended"}));
}

TEST(generator, awaits_an_ask_of_another_actor_between_yields) {
    troupe::system sys(two_workers());
    auto c = sys.spawn<consumer>(sys.spawn<doubler>());
    EXPECT_EQ(c.ask(doubles{4}).get(patience()), (std::vector<int>{2, 4, 6, 8}));
}

TEST(generator, awaits_tasks_and_other_generators_between_yields) {
    troupe::system sys(two_workers());
    auto c = sys.spawn<consumer>(sys.spawn<doubler>());
    EXPECT_EQ(c.ask(chained{3}).get(patience()), (std::vector<int>{3, 5, 7}));
}

// ---- sleeps on the manual clock ----------------------------------------------------------------

struct tick {
    int n;
    bool operator==(const tick&) const = default;
};
struct watch_ticks {
    int n;
    troupe::address to;
};

class ticker : public troupe::actor {
public:
    troupe::task<void> handle(watch_ticks w) {
        troupe::generator<int> gen = every_10ms(w.n);
        while (std::optional<int> v = co_await gen.next()) {
            w.to.tell(tick{*v});
        }
    }

private:
    troupe::generator<int> every_10ms(int n) {
        for (int i = 1; i <= n; ++i) {
            co_await troupe::sleep_for(10ms);
            co_yield i;
        }
    }
};

TEST(generator, a_sleep_between_yields_ends_when_the_clock_passes_it) {
    test_system t;
    probe<tick> p(t);
    auto a = t.spawn<ticker>();
    a.tell(watch_ticks{3, p.address()});
    t.run();
    EXPECT_TRUE(p.empty());
    EXPECT_EQ(t.clock().next_deadline(), 10ms);
    t.advance(9ms);
    EXPECT_TRUE(p.empty());
    t.advance(1ms);
    p.expect(tick{1});
    t.advance(10ms);
    p.expect(tick{2});
    t.advance(10ms);
    p.expect(tick{3});
    p.expect_nothing();
    EXPECT_EQ(t.clock().pending(), 0u);
}

// ---- early destruction, exceptions, move-only values -------------------------------------------

struct take_two {};
struct drop_unstarted {};
struct faulty {};
struct faulty_unhandled {};
struct boxes {
    int n;
};

class sampler : public troupe::actor {
public:
    explicit sampler(troupe::ref<doubler> d) : d_(std::move(d)) {}

    troupe::task<journal> handle(take_two) {
        journal log;
        {
            troupe::generator<int> gen = naturals(tracer(log, "frame"), log);
            std::optional<int> a = co_await gen.next();
            std::optional<int> b = co_await gen.next();
            log.push_back("took " + std::to_string(*a) + " and " + std::to_string(*b));
        }  // the generator goes here, suspended at its second yield
        log.push_back("after");
        co_return log;
    }
    troupe::task<journal> handle(drop_unstarted) {
        journal log;
        {
            troupe::generator<int> gen = naturals(tracer(log, "frame"), log);
            log.push_back("made");
        }
        log.push_back("after");
        co_return log;
    }
    troupe::task<journal> handle(faulty) {
        journal log;
        troupe::generator<int> gen = one_then_throw();
        std::optional<int> first = co_await gen.next();
        log.push_back("got " + std::to_string(*first));
        try {
            co_await gen.next();
            log.push_back("no error");
        } catch (const std::runtime_error& e) {
            log.push_back(std::string("caught ") + e.what());
        }
        std::optional<int> after = co_await gen.next();
        log.push_back(after ? "more" : "ended");
        co_return log;
    }
    troupe::task<int> handle(faulty_unhandled) {
        troupe::generator<int> gen = one_then_throw();
        int sum = 0;
        while (std::optional<int> v = co_await gen.next()) {
            sum += *v;
        }
        co_return sum;
    }
    troupe::task<std::vector<int>> handle(boxes b) {
        std::vector<int> out;
        troupe::generator<std::unique_ptr<int>> gen = boxed(b.n);
        while (std::optional<std::unique_ptr<int>> box = co_await gen.next()) {
            out.push_back(**box);
        }
        co_return out;
    }

private:
    troupe::generator<int> naturals([[maybe_unused]] tracer frame, journal& log) {
        struct local {
            journal& log;
            ~local() { log.push_back("local destroyed"); }
        } guard{log};
        log.push_back("started");
        for (int i = 1;; ++i) {
            troupe::future<int> reply = d_.ask(double_it{i});
            const int v = co_await std::move(reply);
            co_yield v;
            log.push_back("resumed after " + std::to_string(v));
        }
    }
    troupe::generator<int> one_then_throw() {
        co_yield 1;
        troupe::future<int> reply = d_.ask(double_it{1});
        co_await std::move(reply);
        throw std::runtime_error("the generator broke");
    }
    troupe::generator<std::unique_ptr<int>> boxed(int n) {
        for (int i = 1; i <= n; ++i) {
            auto box = std::make_unique<int>(i * 10);
            co_yield std::move(box);  // a move-only lvalue, moved
        }
        co_yield std::make_unique<int>(-1);  // a temporary
    }

    troupe::ref<doubler> d_;
};

TEST(generator, destroying_it_early_destroys_its_frame) {
    troupe::system sys(two_workers());
    auto s = sys.spawn<sampler>(sys.spawn<doubler>());
    EXPECT_EQ(s.ask(take_two{}).get(patience()),
              (journal{"started", "resumed after 2", "took 2 and 4", "local destroyed", "frame destroyed", "after"}));
}

TEST(generator, destroying_it_before_the_first_next_destroys_its_frame_without_running_it) {
    troupe::system sys(two_workers());
    auto s = sys.spawn<sampler>(sys.spawn<doubler>());
    EXPECT_EQ(s.ask(drop_unstarted{}).get(patience()), (journal{"made", "frame destroyed", "after"}));
}

TEST(generator, an_exception_of_the_body_is_thrown_at_next_once) {
    troupe::system sys(two_workers());
    auto s = sys.spawn<sampler>(sys.spawn<doubler>());
    EXPECT_EQ(s.ask(faulty{}).get(patience()), (journal{"got 1", "caught the generator broke", "ended"}));
}

TEST(generator, an_exception_the_consumer_does_not_catch_reaches_the_asker) {
    troupe::system sys(two_workers());
    auto s = sys.spawn<sampler>(sys.spawn<doubler>());
    EXPECT_THROW(s.ask(faulty_unhandled{}).get(patience()), std::runtime_error);
    EXPECT_TRUE(s.alive());
}

TEST(generator, yields_move_only_values) {
    troupe::system sys(two_workers());
    auto s = sys.spawn<sampler>(sys.spawn<doubler>());
    EXPECT_EQ(s.ask(boxes{3}).get(patience()), (std::vector<int>{10, 20, 30, -1}));
}

// ---- cancellation ------------------------------------------------------------------------------

struct note {
    std::string what;
    bool operator==(const note&) const = default;
};
struct follow {
    troupe::address to;
};

class follower : public troupe::actor {
public:
    troupe::task<int> handle(follow f) {
        troupe::generator<int> gen = slow(f.to);
        int sum = 0;
        while (std::optional<int> v = co_await gen.next()) {
            sum += *v;
        }
        co_return sum;
    }

private:
    troupe::generator<int> slow(troupe::address to) {
        co_yield 1;
        try {
            co_await troupe::sleep_for(1h);
        } catch (const troupe::cancelled&) {
            to.tell(note{"generator cancelled"});
            throw;
        }
        co_yield 2;
    }
};

TEST(generator, stopping_the_actor_ends_a_suspended_generator_with_cancelled) {
    test_system t;
    probe<note> p(t);
    auto a = t.spawn<follower>();
    auto sum = a.ask(follow{p.address()});
    t.run();
    EXPECT_FALSE(sum.ready());
    EXPECT_TRUE(t.stop(a));
    p.expect(note{"generator cancelled"});
    EXPECT_THROW(t.await(sum), troupe::cancelled);
}

/// Takes notes and drops them.
class sink : public troupe::actor {
public:
    using handles = troupe::handles<note>;
    void handle(note) {}
};

TEST(generator, stopping_the_actor_on_a_worker_pool_ends_it_too) {
    troupe::system sys(two_workers());
    auto a = sys.spawn<follower>();
    auto sum = a.ask(follow{sys.spawn<sink>()});
    EXPECT_TRUE(a.stop(patience()));
    EXPECT_THROW(sum.get(patience()), troupe::cancelled);
}

struct in_nursery {};
struct cancelled_next {};
struct hurry {};
struct two_consumers {};

class organiser : public troupe::actor {
public:
    troupe::task<journal> handle(in_nursery) {
        journal log;
        try {
            co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
                n.start(drain(one_then_fail(), log, "a"));
                n.start(drain(one_then_wait(log), log, "b"));
                co_return;
            });
        } catch (const troupe::error_group& g) {
            log.push_back(g.what());
        }
        co_return log;
    }
    troupe::task<journal> handle(cancelled_next) {
        journal log;
        troupe::generator<int> gen = logged_numbers(log);
        co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
            std::optional<int> first = co_await gen.next();
            log.push_back("got " + std::to_string(*first));
            n.cancel();
            try {
                co_await gen.next();
                log.push_back("no error");
            } catch (const troupe::cancelled&) {
                log.push_back("next cancelled");
            }
        });
        // Outside the cancelled scope the generator goes on where it was.
        std::optional<int> second = co_await gen.next();
        log.push_back("got " + std::to_string(*second));
        co_return log;
    }
    troupe::task<std::string> handle(hurry) {
        std::vector<int> got;
        troupe::generator<int> gen = every_10ms_forever();
        const bool finished = co_await troupe::move_on_after(25ms, drain_into(gen, got));
        // The deadline cancelled the body's sleep inside the scope: the generator has ended.
        std::optional<int> after = co_await gen.next();
        std::string out = finished ? "finished:" : "gave up:";
        for (int v : got) {
            out += " " + std::to_string(v);
        }
        co_return out + (after ? ", more" : ", ended");
    }
    troupe::task<std::string> handle(two_consumers) {
        troupe::generator<int> gen = one_then_wait_quietly();
        try {
            co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
                n.start(drain_quietly(gen));  // pending in the body's long sleep
                n.start(drain_quietly(gen));  // a second consumer: refused
                co_return;
            });
        } catch (const troupe::error_group& g) {
            co_return g.what();
        }
        co_return "no error";
    }

private:
    troupe::task<void> drain(troupe::generator<int> gen, journal& log, std::string who) {
        while (std::optional<int> v = co_await gen.next()) {
            log.push_back(who + " got " + std::to_string(*v));
        }
    }
    troupe::task<void> drain_into(troupe::generator<int>& gen, std::vector<int>& got) {
        while (std::optional<int> v = co_await gen.next()) {
            got.push_back(*v);
        }
    }
    troupe::task<void> drain_quietly(troupe::generator<int>& gen) {
        // Not `while (co_await gen.next()) {}`: GCC 12 never starts a coroutine that declares no
        // variable and loops on a bare co_await condition (see the async guide).
        while (std::optional<int> v = co_await gen.next()) {}
    }
    troupe::generator<int> one_then_fail() {
        co_yield 1;
        co_await troupe::sleep_for(1ms);
        throw std::runtime_error("a broke");
    }
    troupe::generator<int> one_then_wait(journal& log) {
        co_yield 1;
        try {
            co_await troupe::sleep_for(60s);
        } catch (const troupe::cancelled&) {
            log.push_back("b's generator cancelled");
            throw;
        }
        co_yield 2;
    }
    troupe::generator<int> one_then_wait_quietly() {
        co_await troupe::sleep_for(60s);
        co_yield 1;
    }
    troupe::generator<int> logged_numbers(journal& log) {
        for (int i = 1;; ++i) {
            log.push_back("yields " + std::to_string(i));
            co_yield i;
        }
    }
    troupe::generator<int> every_10ms_forever() {
        for (int i = 1;; ++i) {
            co_await troupe::sleep_for(10ms);
            co_yield i;
        }
    }
};

TEST(generator, in_a_nursery_an_error_cancels_the_other_generators) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    EXPECT_EQ(o.ask(in_nursery{}).get(patience()), (journal{"a got 1", "b got 1", "b's generator cancelled",
                                                            "1 error in a nursery: std::runtime_error: a broke"}));
}

TEST(generator, a_next_in_a_cancelled_scope_fails_at_once_and_leaves_the_generator_where_it_was) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    EXPECT_EQ(o.ask(cancelled_next{}).get(patience()),
              (journal{"yields 1", "got 1", "next cancelled", "yields 2", "got 2"}));
}

TEST(generator, a_deadline_cancels_a_generator_suspended_in_its_scope) {
    test_system t;
    auto o = t.spawn<organiser>();
    auto r = o.ask(hurry{});
    t.advance(24ms);
    EXPECT_FALSE(r.ready());
    t.advance(1ms);
    EXPECT_EQ(t.await(r), "gave up: 1 2, ended");
}

TEST(generator, a_second_consumer_while_a_next_is_pending_is_refused) {
    troupe::system sys(two_workers());
    auto o = sys.spawn<organiser>();
    const std::string what = o.ask(two_consumers{}).get(patience());
    EXPECT_NE(what.find("1 error in a nursery: troupe::error: troupe::generator: next() while another next()"),
              std::string::npos)
        << what;
}

// ---- one actor only ----------------------------------------------------------------------------

struct hand_over {
    troupe::generator<int> gen;
};
class stranger : public troupe::actor {
public:
    troupe::task<std::string> handle(hand_over h) {
        try {
            co_await h.gen.next();
            co_return "resumed it";
        } catch (const troupe::error& e) {
            co_return e.what();
        }
    }
};
struct pass_to {
    troupe::ref<stranger> who;
};
class maker : public troupe::actor {
public:
    troupe::task<std::string> handle(pass_to p) {
        troupe::future<std::string> reply = p.who.ask(hand_over{numbers()});
        co_return co_await std::move(reply);
    }

private:
    troupe::generator<int> numbers() {
        ++resumed_;  // the body uses this actor's state: it must not run on another actor
        co_yield resumed_;
    }
    int resumed_ = 0;
};

TEST(generator, only_the_actor_that_made_it_resumes_it) {
    troupe::system sys(two_workers());
    auto m = sys.spawn<maker>();
    const std::string what = m.ask(pass_to{sys.spawn<stranger>()}).get(patience());
    EXPECT_NE(what.find("next() called outside the actor that made the generator"), std::string::npos) << what;
}

}  // namespace generator_tests
