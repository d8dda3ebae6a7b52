#include <troupe/core/actor.hpp>

#include "test_support.hpp"

#include <troupe/core/ref.hpp>
#include <troupe/core/registry.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// The actor base class and its context: identity, construction, on_start / on_stop / on_failure
// and what an actor can do through self() (Pykka ID-*, LC-01..03, LC-09..12, HK-01..06).

namespace actor_tests {

using namespace std::chrono_literals;
using troupe_test::gate;
using troupe_test::journal;
using troupe_test::patience;
using troupe_test::small_system;

struct ping {};
struct explode {
    std::string what;
};
struct whoami {};
struct hold {
    gate* entered;
    gate* release;
};

/// Records every hook in a journal; `explode` throws from a handler.
class hooked : public troupe::actor {
public:
    explicit hooked(journal& log) : log_(log) {}
    std::string handle(ping) {
        log_.add("ping");
        return "pong";
    }
    int handle(explode e) { throw std::runtime_error(e.what); }
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }

protected:
    void on_start() override { log_.add("on_start"); }
    void on_stop() override { log_.add("on_stop"); }
    void on_failure(std::exception_ptr error) override {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            log_.add(std::string("on_failure: ") + e.what());
        }
    }

private:
    journal& log_;
};

// ---- identity ------------------------------------------------------------------------------

class plain : public troupe::actor {
public:
    std::string handle(whoami) { return self().name() + " " + std::to_string(self().id()); }
};

// ID-01: every actor gets a unique id.
TEST(actor, ids_are_unique) {
    troupe::system sys(small_system());
    auto a = sys.spawn<plain>();
    auto b = sys.spawn<plain>();
    auto c = sys.spawn<plain>();
    EXPECT_NE(a.id(), 0u);
    EXPECT_NE(a.id(), b.id());
    EXPECT_NE(b.id(), c.id());
    EXPECT_NE(a.id(), c.id());
}

// ID-02: the name is "<class or given name>#<id>", the same inside and outside.
TEST(actor, the_name_is_the_class_or_given_name_and_the_id) {
    troupe::system sys(small_system());
    auto a = sys.spawn<plain>();
    EXPECT_EQ(a.name(), "plain#" + std::to_string(a.id()));
    EXPECT_EQ(a.ask(whoami{}).get(patience()), a.name() + " " + std::to_string(a.id()));
    auto b = sys.spawn<plain>(troupe_test::named("greeter"));
    EXPECT_EQ(b.name(), "greeter#" + std::to_string(b.id()));
    EXPECT_EQ(b.ask(whoami{}).get(patience()), b.name() + " " + std::to_string(b.id()));
}

// ID-03: the constructor runs on the spawning thread with the given arguments; on_start and the
// handlers run on the actor's executor.
class where : public troupe::actor {
public:
    where(std::unique_ptr<int> arg, std::thread::id& built_on, std::thread::id& started_on)
        : arg_(std::move(arg)), started_on_(started_on) {
        built_on = std::this_thread::get_id();
    }
    std::thread::id handle(ping) { return std::this_thread::get_id(); }
    int handle(whoami) { return *arg_; }

protected:
    void on_start() override { started_on_ = std::this_thread::get_id(); }

private:
    std::unique_ptr<int> arg_;
    std::thread::id& started_on_;
};

TEST(actor, the_constructor_runs_on_the_spawning_thread) {
    std::thread::id built_on;
    std::thread::id started_on;
    troupe::system sys(small_system());
    auto a = sys.spawn<where>(std::make_unique<int>(5), built_on, started_on);
    EXPECT_EQ(built_on, std::this_thread::get_id());
    EXPECT_EQ(a.ask(whoami{}).get(patience()), 5);
    EXPECT_NE(started_on, std::this_thread::get_id()) << "on_start runs on the actor's executor";
    EXPECT_NE(a.ask(ping{}).get(patience()), std::this_thread::get_id());
}

// ID-04: a constructor's exception comes out of spawn; nothing is registered or started.
class refuses : public troupe::actor {
public:
    explicit refuses(std::atomic<int>& hooks) : hooks_(hooks) { throw std::invalid_argument("bad argument"); }
    void handle(ping) {}

protected:
    void on_start() override { ++hooks_; }
    void on_stop() override { ++hooks_; }

private:
    std::atomic<int>& hooks_;
};

TEST(actor, a_throwing_constructor_fails_the_spawn) {
    std::atomic<int> hooks{0};
    troupe::system sys(small_system());
    try {
        (void)sys.spawn<refuses>(hooks);
        FAIL() << "expected the constructor's exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "bad argument");
    }
    EXPECT_EQ(sys.registry().size(), 0u);
    EXPECT_TRUE(sys.registry().by_type<refuses>().empty());
    sys.shutdown();
    EXPECT_EQ(hooks.load(), 0);
}

// ID-05: an actor can only be made by spawn.
TEST(actor, an_actor_cannot_be_constructed_directly) {
    try {
        plain p;
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "actors are created with system::spawn<A>(...) or self().spawn<A>(...), not directly");
    }
}

// ---- start -------------------------------------------------------------------------------

// LC-01: the actor is registered before on_start runs.
class self_finder : public troupe::actor {
public:
    explicit self_finder(std::optional<bool>& found) : found_(found) {}
    void handle(ping) {}

protected:
    void on_start() override { found_ = self().system().registry().by_id(self().id()).has_value(); }

private:
    std::optional<bool>& found_;
};

TEST(actor, on_start_finds_the_actor_registered) {
    std::optional<bool> found;
    troupe::system sys(small_system());
    auto a = sys.spawn<self_finder>(found);
    a.ask(ping{}).get(patience());
    ASSERT_TRUE(found.has_value());
    EXPECT_TRUE(*found);
}

// LC-02: on_start finishes before the first message, even one sent right after spawn.
class slow_starter : public troupe::actor {
public:
    explicit slow_starter(gate& go) : go_(go) {}
    bool handle(ping) { return started_; }

protected:
    void on_start() override {
        go_.wait();
        started_ = true;
    }

private:
    gate& go_;
    bool started_ = false;
};

TEST(actor, on_start_runs_before_the_first_message) {
    gate go;
    troupe::system sys(small_system());
    auto a = sys.spawn<slow_starter>(go);
    auto first = a.ask(ping{});
    EXPECT_TRUE(a.alive());
    go.open();
    EXPECT_TRUE(first.get(patience()));
}

// LC-10: on_start may stop the actor; on_stop runs and it is no longer alive.
class quitter : public troupe::actor {
public:
    explicit quitter(journal& log) : log_(log) {}
    void handle(ping) { log_.add("ping"); }

protected:
    void on_start() override {
        log_.add("on_start");
        self().stop();
    }
    void on_stop() override { log_.add("on_stop"); }

private:
    journal& log_;
};

TEST(actor, on_start_can_stop_the_actor) {
    journal log;
    troupe::system sys(small_system());
    auto a = sys.spawn<quitter>(log);
    EXPECT_NO_THROW(a.terminated().get(patience()));
    EXPECT_FALSE(a.alive());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"on_start", "on_stop"}));
    EXPECT_EQ(sys.registry().size(), 0u);
}

// HK-02: on_start throwing stops the actor: unregistered, no on_stop, no on_failure; messages
// queued meanwhile are refused (asks fail with actor_dead), later sends too.
class bad_starter : public troupe::actor {
public:
    bad_starter(journal& log, gate& go) : log_(log), go_(go) {}
    std::string handle(ping) {
        log_.add("ping");
        return "pong";
    }

protected:
    void on_start() override {
        go_.wait();
        throw std::runtime_error("cannot start");
    }
    void on_stop() override { log_.add("on_stop"); }
    void on_failure(std::exception_ptr) override { log_.add("on_failure"); }

private:
    journal& log_;
    gate& go_;
};

TEST(actor, a_throwing_on_start_stops_the_actor_without_hooks) {
    journal log;
    gate go;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto a = sys.spawn<bad_starter>(log, go);
    auto queued = a.ask(ping{});
    go.open();
    EXPECT_NO_THROW(a.terminated().get(patience()));
    EXPECT_FALSE(a.alive());
    EXPECT_EQ(sys.registry().size(), 0u);
    try {
        (void)queued.get(patience());
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_EQ(std::string(e.what()), a.name() + " stopped before handling the message");
    }
    EXPECT_THROW((void)a.ask(ping{}).get(patience()), troupe::actor_dead);
    EXPECT_THROW(a.tell(ping{}), troupe::actor_dead);
    EXPECT_FALSE(a.stop());
    EXPECT_TRUE(log.entries().empty());
}

// LC-14: a blocking self-ask or self-stop from on_start fails fast with deadlock.
class start_waiter : public troupe::actor {
public:
    explicit start_waiter(journal& log) : log_(log) {}
    void handle(ping) {}

protected:
    void on_start() override {
        attempt([this] { troupe::ref{this}.ask(ping{}).get(); });
        attempt([this] { (void)troupe::ref{this}.stop(); });
    }

private:
    template <class F>
    void attempt(F f) {
        try {
            f();
            log_.add("returned");
        } catch (const troupe::deadlock& e) {
            log_.add(e.what());
        } catch (const std::exception& e) {
            log_.add(std::string("other: ") + e.what());
        }
    }
    journal& log_;
};

TEST(actor, waiting_for_itself_in_on_start_throws_deadlock) {
    journal log;
    troupe::system sys(small_system());
    auto a = sys.spawn<start_waiter>(log);
    EXPECT_NO_THROW(a.terminated().get(patience())) << "the stop requested from on_start still stands";
    const std::string text =
        a.name() + " would wait for ever: it is blocked on a reply (or a stop) that only it can give";
    EXPECT_EQ(log.entries(), (std::vector<std::string>{text, text}));
}

// ---- stop and failure hooks --------------------------------------------------------------

// HK-01: on_stop runs on a normal stop, and not before.
TEST(actor, on_stop_runs_on_stop_only) {
    journal log;
    troupe::system sys(small_system());
    auto a = sys.spawn<hooked>(log);
    EXPECT_EQ(a.ask(ping{}).get(patience()), "pong");
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"on_start", "ping"}));
    EXPECT_TRUE(a.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"on_start", "ping", "on_stop"}));
}

// LC-11: when on_stop runs the actor is already unregistered and refuses messages.
class inspector : public troupe::actor {
public:
    explicit inspector(journal& log) : log_(log) {}
    void handle(ping) {}

protected:
    void on_stop() override {
        log_.add(troupe::ref{this}.alive() ? "alive" : "not alive");
        log_.add(self().system().registry().by_id(self().id()) ? "registered" : "not registered");
        // Inside an actor, a tell to an actor that has ended is a counted dead letter.
        const auto before = self().system().dead_letters();
        troupe::ref{this}.tell(ping{});
        log_.add(self().system().dead_letters() == before + 1 ? "tell is a dead letter" : "tell accepted");
    }

private:
    journal& log_;
};

TEST(actor, on_stop_sees_the_actor_dead_and_unregistered) {
    journal log;
    troupe::system sys(small_system());
    auto a = sys.spawn<inspector>(log);
    ASSERT_TRUE(a.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"not alive", "not registered", "tell is a dead letter"}));
}

// HK-03: an exception in on_stop is contained; the actor still ends stopped.
class bad_stopper : public troupe::actor {
public:
    void handle(ping) {}

protected:
    void on_stop() override { throw std::runtime_error("cannot stop cleanly"); }
};

TEST(actor, a_throwing_on_stop_still_stops_the_actor) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto a = sys.spawn<bad_stopper>();
    EXPECT_TRUE(a.stop());
    EXPECT_FALSE(a.alive());
    EXPECT_EQ(sys.registry().size(), 0u);
    EXPECT_FALSE(a.stop());
}

// HK-04: a tell whose handler throws: the actor stops, on_failure gets the exception, on_stop
// does not run; messages queued behind it are refused.
TEST(actor, a_failing_tell_runs_on_failure_and_stops_the_actor) {
    journal log;
    gate entered;
    gate release;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto a = sys.spawn<hooked>(log);
    a.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    a.tell(explode{"boom"});
    auto behind = a.ask(ping{});
    release.open();
    EXPECT_NO_THROW(a.terminated().get(patience()));
    EXPECT_FALSE(a.alive());
    EXPECT_EQ(sys.registry().size(), 0u);
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"on_start", "on_failure: boom"}));
    try {
        (void)behind.get(patience());
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_EQ(std::string(e.what()), a.name() + " stopped before handling the message");
    }
    EXPECT_THROW(a.tell(ping{}), troupe::actor_dead);
    EXPECT_FALSE(a.stop());
}

// HK-04: inside on_failure the actor is already dead and unregistered.
class failure_inspector : public troupe::actor {
public:
    explicit failure_inspector(journal& log) : log_(log) {}
    void handle(explode e) { throw std::runtime_error(e.what); }

protected:
    void on_failure(std::exception_ptr) override {
        log_.add(troupe::ref{this}.alive() ? "alive" : "not alive");
        log_.add(self().system().registry().by_id(self().id()) ? "registered" : "not registered");
    }

private:
    journal& log_;
};

TEST(actor, on_failure_sees_the_actor_dead_and_unregistered) {
    journal log;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto a = sys.spawn<failure_inspector>(log);
    a.tell(explode{"x"});
    EXPECT_NO_THROW(a.terminated().get(patience()));
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"not alive", "not registered"}));
}

// HK-05: an exception in on_failure is contained; the actor still ends stopped.
class double_fault : public troupe::actor {
public:
    void handle(explode e) { throw std::runtime_error(e.what); }

protected:
    void on_failure(std::exception_ptr) override { throw std::logic_error("on_failure failed too"); }
};

TEST(actor, a_throwing_on_failure_still_stops_the_actor) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto a = sys.spawn<double_fault>();
    a.tell(explode{"first"});
    EXPECT_NO_THROW(a.terminated().get(patience()));
    EXPECT_FALSE(a.alive());
    EXPECT_EQ(sys.registry().size(), 0u);
}

// HK-06: an ask whose handler throws does not fail the actor: no on_failure, it goes on.
TEST(actor, a_failing_ask_does_not_run_on_failure) {
    journal log;
    troupe::system sys(small_system());
    auto a = sys.spawn<hooked>(log);
    EXPECT_THROW((void)a.ask(explode{"to the asker"}).get(patience()), std::runtime_error);
    EXPECT_EQ(a.ask(ping{}).get(patience()), "pong");
    EXPECT_TRUE(a.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"on_start", "ping", "on_stop"}));
}

// ---- context: self() ---------------------------------------------------------------------

struct spawn_child {};
struct child_count {};

class child : public troupe::actor {
public:
    explicit child(int n) : n_(n) {}
    int handle(ping) { return n_; }

private:
    int n_;
};

class parent : public troupe::actor {
public:
    troupe::ref<child> handle(spawn_child) { return self().spawn<child>(++children_); }
    bool handle(whoami) { return self().address().id() == self().id(); }

private:
    int children_ = 0;
};

TEST(actor, an_actor_spawns_children_that_end_before_it) {
    troupe::system sys(small_system());
    auto p = sys.spawn<parent>();
    auto c1 = p.ask(spawn_child{}).get(patience());
    auto c2 = p.ask(spawn_child{}).get(patience());
    EXPECT_EQ(c1.ask(ping{}).get(patience()), 1);
    EXPECT_EQ(c2.ask(ping{}).get(patience()), 2);
    EXPECT_EQ(sys.registry().by_type<child>().size(), 2u);
    EXPECT_TRUE(p.ask(whoami{}).get(patience()));
    // A parent's stop stops its children first: by the time stop() returns they have ended.
    EXPECT_TRUE(p.stop());
    EXPECT_FALSE(c1.alive());
    EXPECT_FALSE(c2.alive());
    EXPECT_EQ(c1.exited().get(patience()).what, troupe::exit_reason::kind::stopped);
}

class system_checker : public troupe::actor {
public:
    explicit system_checker(troupe::system*& seen) : seen_(seen) {}
    void handle(ping) { seen_ = &self().system(); }

private:
    troupe::system*& seen_;
};

TEST(actor, self_system_is_the_spawning_system) {
    troupe::system* seen = nullptr;
    troupe::system sys(small_system());
    auto a = sys.spawn<system_checker>(seen);
    a.ask(ping{}).get(patience());
    EXPECT_EQ(seen, &sys);
}

// Over-aligned actors and messages get memory with their alignment, whatever the pools do.
struct alignas(64) wide_message {
    wide_message() = default;
    wide_message(wide_message&& o) noexcept : value(o.value), source_misaligned(o.source_misaligned) {
        // The moved-from object is the one stored in the envelope (or the sender's).
        source_misaligned |= reinterpret_cast<std::uintptr_t>(&o) % 64 != 0;
    }
    wide_message& operator=(wide_message&&) = default;
    int value = 0;
    bool source_misaligned = false;
};

class alignas(64) wide_actor : public troupe::actor {
public:
    bool handle(wide_message m) {
        const bool self_aligned = reinterpret_cast<std::uintptr_t>(this) % 64 == 0;
        return self_aligned && !m.source_misaligned;
    }
};

TEST(actor, over_aligned_actors_and_messages_are_aligned) {
    troupe::system sys(small_system());
    std::vector<troupe::ref<wide_actor>> actors;
    for (int i = 0; i < 16; ++i) {
        actors.push_back(sys.spawn<wide_actor>());
    }
    std::vector<troupe::future<bool>> answers;
    for (int i = 0; i < 64; ++i) {
        answers.push_back(actors[i % actors.size()].ask(wide_message{}));
        actors[i % actors.size()].tell(wide_message{});
    }
    for (auto& a : answers) {
        EXPECT_TRUE(a.get(patience())) << "an actor or a queued message was not 64-aligned";
    }
}

}  // namespace actor_tests
