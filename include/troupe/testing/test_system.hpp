#pragma once
/// \file
/// test_system: a troupe::system on a manual scheduler and a manual clock. Actors run only when
/// the test runs them, on the test's thread, and time moves only when the test advances it, so
/// every run of a test sees the same messages in the same order.

#include <troupe/core/future.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>
#include <troupe/testing/errors.hpp>
#include <troupe/testing/manual_clock.hpp>
#include <troupe/testing/manual_scheduler.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

namespace troupe::testing {

/// A deterministic actor system for tests. Nothing runs until the test calls run(), step(),
/// advance(), await() or a probe's expect(); then every turn runs on the calling thread.
/// Never block on a future or call ref::stop() from the test: nothing would run the turns
/// they wait for. Use await() and stop() here instead.
class test_system {
public:
    /// Virtual times and delays.
    using duration = manual_clock::duration;

    /// A system named `name` whose actors handle one message per turn.
    explicit test_system(std::string name = "test");
    /// A system with these options (name, batch size); the executor and the timers are the
    /// test system's own, whatever `options` says.
    explicit test_system(system_options options);
    /// Stops every actor, running their last turns on this thread (see shutdown()).
    ~test_system();
    test_system(const test_system&) = delete;
    test_system& operator=(const test_system&) = delete;

    /// The system under test.
    troupe::system& sys() noexcept { return *system_; }
    /// Starts an actor (as system::spawn). Its on_start runs at the next turns the test runs.
    template <class A, class... Args>
    ref<A> spawn(Args&&... args) {
        return system_->template spawn<A>(std::forward<Args>(args)...);
    }
    /// The scheduler the actors run on.
    manual_scheduler& scheduler() noexcept { return scheduler_; }
    /// The clock the timers run on.
    manual_clock& clock() noexcept { return clock_; }
    /// The virtual time (zero at construction).
    duration now() const { return clock_.now(); }

    /// Runs one actor turn (one message, with the default batch). False if nothing was runnable.
    bool step();
    /// Runs turns until no actor has work; returns how many ran. Throws troupe::testing::stuck
    /// if the actors are still busy after turn_limit() turns (an endless exchange).
    std::size_t run();
    /// Runs what is runnable, then moves the clock forward by `d` one deadline at a time: at
    /// each deadline the timers due fire and the actors run until idle, so that work a timer
    /// starts (a sleep, another timer) happens at the right virtual time. Returns the turns run.
    std::size_t advance(duration d);
    /// Runs turns until `done()` is true (true) or nothing is runnable (false).
    /// Throws troupe::testing::stuck past turn_limit() turns.
    template <class Done>
    bool run_until(Done done) {
        for (std::size_t n = 0; !done(); ++n) {
            if (n == turn_limit_) {
                throw_busy(n);
            }
            if (!step()) {
                return done();
            }
        }
        return true;
    }

    /// Runs turns until `f` is ready, then returns its value (or throws its error). Throws
    /// troupe::testing::stuck if the system goes idle first: the result would never come.
    template <class T>
    T await(future<T> f) {
        if (!run_until([&] { return f.ready(); })) {
            throw stuck(
                idle_report("await(future<" + troupe::detail::type_name(typeid(T)) + ">)", "the future is not ready"));
        }
        return std::move(f).get();
    }
    /// Stops `target` and runs turns until it has stopped: ref::stop() for tests. True if it was
    /// alive or stopping, false if it had already ended.
    template <class A>
    bool stop(const ref<A>& target) {
        return await(target.stop_async());
    }

    /// Runs what is queued, then stops every actor (newest first, and again while stops start
    /// new ones), running their turns on this thread, then shuts the system down. Idempotent.
    /// Throws troupe::testing::stuck if actors on dedicated threads do not stop within 10 s.
    void shutdown();

    /// The most turns run(), run_until() and await() run before they give up (default 100000).
    std::size_t turn_limit() const noexcept { return turn_limit_; }
    /// Sets turn_limit().
    void set_turn_limit(std::size_t n) noexcept { turn_limit_ = n; }

    /// "<what> would wait for ever: <why>, and the system is idle", with a word on the timers.
    std::string idle_report(const std::string& what, const std::string& why) const;

private:
    [[noreturn]] void throw_busy(std::size_t turns) const;

    manual_scheduler scheduler_;
    manual_clock clock_;
    std::unique_ptr<troupe::system> system_;  // last: it dies before the scheduler and the clock
    std::size_t turn_limit_ = 100000;
};

}  // namespace troupe::testing
