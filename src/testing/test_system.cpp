// The test system: a system on a manual scheduler and a manual clock, and the loops that drive
// them from the test's thread.

#include <troupe/testing/test_system.hpp>

#include <troupe/core/log.hpp>
#include <troupe/core/registry.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <thread>

namespace troupe::testing {

namespace {
system_options with_defaults(std::string name) {
    system_options o;
    o.name = std::move(name);
    o.scheduler.batch = 1;  // one message per turn: the finest steps a test can take
    return o;
}
}  // namespace

test_system::test_system(std::string name) : test_system(with_defaults(std::move(name))) {}

test_system::test_system(system_options options) {
    options.executor = &scheduler_;
    options.timers = &clock_;
    system_ = std::make_unique<troupe::system>(std::move(options));
}

test_system::~test_system() {
    try {
        shutdown();
    } catch (const std::exception& e) {
        // Destroying the system would wait for those actors for ever: leave it, and say so.
        troupe::logger()->error("{} (the system is leaked)", e.what());
        (void)system_.release();
        return;
    }
    system_.reset();
}

bool test_system::step() {
    return scheduler_.run_one();
}

std::size_t test_system::run() {
    std::size_t n = 0;
    while (step()) {
        if (++n == turn_limit_ && scheduler_.pending() != 0) {
            throw_busy(n);
        }
    }
    return n;
}

std::size_t test_system::advance(duration d) {
    if (d < duration::zero()) {
        throw error("test_system::advance: time only moves forward (a negative duration was given)");
    }
    const duration target = clock_.now() + d;
    std::size_t turns = run();
    for (;;) {
        auto next = clock_.next_deadline();
        if (!next || *next > target) {
            break;
        }
        clock_.advance(*next - clock_.now());  // fires every timer due at that instant
        turns += run();
    }
    clock_.advance(target - clock_.now());
    return turns + run();
}

void test_system::shutdown() {
    if (!system_->running()) {
        return;
    }
    // system::shutdown() would block until the registry empties, and nothing would run the
    // turns that empty it: stop the actors here first, on this thread, so that it finds none.
    // What is queued runs first (bounded, in case the actors are busy for ever), so that the
    // stops, requested newest first, also run newest first. Stops may start actors: repeat.
    scheduler_.run_until_idle(turn_limit_);
    auto& actors = system_->registry();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (actors.size() != 0) {
        actors.request_stop_all();
        if (scheduler_.run_until_idle() != 0) {
            deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            continue;
        }
        if (actors.size() == 0) {
            break;
        }
        // Nothing runnable, yet actors are left: only one on a dedicated thread can still move.
        if (std::chrono::steady_clock::now() > deadline) {
            std::string names;
            for (const auto& a : actors.all()) {
                names += (names.empty() ? "" : ", ") + a.name();
            }
            throw stuck("test system '" + system_->name() + "': shutdown found actors that do not stop: " + names);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    system_->shutdown();
}

std::string test_system::idle_report(const std::string& what, const std::string& why) const {
    std::string text = "test system '" + system_->name() + "': " + what + " would wait for ever: " + why +
                       ", and no actor has anything to do (now = " + troupe::detail::describe_duration(clock_.now());
    if (auto next = clock_.next_deadline()) {
        text += "; a timer is due at " + troupe::detail::describe_duration(*next) +
                ": advance() the clock if the result waits for time)";
    } else {
        text += "; no timer is pending: a deadlock in the test?)";
    }
    return text;
}

void test_system::throw_busy(std::size_t turns) const {
    throw stuck("test system '" + system_->name() + "': the actors were still busy after " + std::to_string(turns) +
                " turns (an endless exchange of messages?); raise set_turn_limit() if that is expected");
}

}  // namespace troupe::testing
