#pragma once
// Helpers shared by the supervision tests: an event log that a test can wait on, an observer
// that writes a supervisor's events into one, and a worker actor that logs its lifecycle.
// Nothing here sleeps: waits are condition-variable waits with a deadline of patience().

#include <troupe/supervision/supervisor.hpp>

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/test_support.hpp"

namespace supervision_test {

/// A thread-safe list of events that a test can wait on.
class event_log {
public:
    /// Appends `entry` and wakes the waiters.
    void add(std::string entry) {
        {
            std::lock_guard lock(mutex_);
            entries_.push_back(std::move(entry));
        }
        changed_.notify_all();
    }
    /// Every entry so far, oldest first.
    std::vector<std::string> entries() const {
        std::lock_guard lock(mutex_);
        return entries_;
    }
    /// The entries from index `from` on.
    std::vector<std::string> entries_from(std::size_t from) const {
        auto all = entries();
        return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
    }
    /// How many times `entry` was added.
    std::size_t count(const std::string& entry) const {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count(entries_.begin(), entries_.end(), entry));
    }
    /// Waits until `entry` was added `times` times, at most patience(); fails the test otherwise.
    bool wait_for(const std::string& entry, std::size_t times = 1) const {
        std::unique_lock lock(mutex_);
        const bool seen = changed_.wait_for(lock, troupe_test::patience(), [&] {
            return static_cast<std::size_t>(std::count(entries_.begin(), entries_.end(), entry)) >= times;
        });
        if (!seen) {
            ADD_FAILURE() << "'" << entry << "' was not logged " << times << " time(s) in time";
        }
        return seen;
    }

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<std::string> entries_;
};

/// A supervisor observer writing "started b", "ended b: failed: ... -> restart" or
/// "-> stays down", "start_failed b: ...", "gave_up b" into `log`.
inline std::function<void(const troupe::supervisor_event&)> observe(event_log& log) {
    return [&log](const troupe::supervisor_event& e) {
        using kind = troupe::supervisor_event::kind;
        switch (e.what) {
            case kind::started:
                log.add("started " + e.child);
                break;
            case kind::ended:
                log.add("ended " + e.child + ": " + e.reason.describe() +
                        (e.restart ? " -> restart" : " -> stays down"));
                break;
            case kind::start_failed:
                log.add("start_failed " + e.child + ": " + e.reason.describe());
                break;
            case kind::gave_up:
                log.add("gave_up " + e.child);
                break;
        }
    };
}

/// Makes a handler throw std::runtime_error("<tag> crashed").
struct crash {};
/// Makes the actor stop itself (a normal end).
struct quit {};
/// Answers the tag the actor was constructed with.
struct whoami {};

/// Logs "<tag> start" in its constructor, "<tag> stop" in on_stop, "<tag> failed" in on_failure.
class worker : public troupe::actor {
public:
    worker(event_log* log, std::string tag) : log_(log), tag_(std::move(tag)) { log_->add(tag_ + " start"); }
    void handle(crash) { throw std::runtime_error(tag_ + " crashed"); }
    void handle(quit) { self().stop(); }
    std::string handle(whoami) { return tag_; }

protected:
    void on_stop() override { log_->add(tag_ + " stop"); }
    void on_failure(std::exception_ptr) override { log_->add(tag_ + " failed"); }

private:
    event_log* log_;
    std::string tag_;
};

/// A child spec for a worker that logs into `log` as `name`.
inline troupe::child_spec worker_child(event_log& log, const std::string& name) {
    return troupe::child<worker>(name, &log, name);
}

/// The current incarnation of the worker `name` of `sup`.
inline troupe::ref<worker> current(const troupe::ref<troupe::supervisor>& sup, const std::string& name) {
    return sup.ask(troupe::which_child<worker>{name}).get(troupe_test::patience());
}

}  // namespace supervision_test
