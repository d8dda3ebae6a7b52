#pragma once
// Helpers shared by the core tests: scaled timeouts, one-shot gates, log capture, a small system.
// Nothing here sleeps: every wait has a deadline scaled by TROUPE_TEST_TIMEFACTOR.

#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace troupe_test {

/// TROUPE_TEST_TIMEFACTOR (default 1) stretches every deadline, for sanitizer or loaded machines.
inline double time_factor() {
    static const double factor = [] {
        const char* text = std::getenv("TROUPE_TEST_TIMEFACTOR");
        if (text == nullptr) {
            return 1.0;
        }
        const double f = std::strtod(text, nullptr);
        return f > 0 ? f : 1.0;
    }();
    return factor;
}

/// `base` scaled by the time factor.
inline std::chrono::milliseconds scaled(std::chrono::milliseconds base) {
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(base.count() * time_factor()));
}

/// How long a test waits for something that must happen (a reply, a stop, a message).
inline std::chrono::milliseconds patience() {
    return scaled(std::chrono::seconds(10));
}

/// A small system: two workers keep CI fast and still run actors in parallel.
/// Waits until `condition()` holds, checking it again and again (yielding in between), for at
/// most the test's patience; true if it came to hold. For a state that another thread reaches
/// and that nothing signals (a thread blocked in a wait), never as a delay.
template <class Condition>
bool eventually(Condition condition) {
    const auto deadline = std::chrono::steady_clock::now() + patience();
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

inline troupe::system_options small_system(unsigned workers = 2) {
    troupe::system_options o;
    o.scheduler.workers = workers;
    return o;
}

/// Spawn options with a name.
inline troupe::spawn_options named(std::string name) {
    troupe::spawn_options o;
    o.name = std::move(name);
    return o;
}

/// Spawn options for an actor on a thread of its own.
inline troupe::spawn_options dedicated() {
    troupe::spawn_options o;
    o.dedicated_thread = true;
    return o;
}

/// Spawn options for a bounded mailbox.
inline troupe::spawn_options bounded(std::size_t capacity, troupe::overflow policy) {
    troupe::spawn_options o;
    o.mailbox.capacity = capacity;
    o.mailbox.on_overflow = policy;
    return o;
}

/// A one-shot signal between threads: open() once, wait() from anywhere (with a deadline).
class gate {
public:
    gate() : opened_(promise_.get_future().share()) {}
    /// Opens the gate; later calls do nothing.
    void open() {
        std::call_once(once_, [this] { promise_.set_value(); });
    }
    /// Waits until open, at most patience(); returns false (and the test fails) on timeout.
    bool wait() const {
        if (opened_.wait_for(patience()) == std::future_status::ready) {
            return true;
        }
        ADD_FAILURE() << "a gate was not opened in time";
        return false;
    }
    /// True if already open (never waits).
    bool is_open() const { return opened_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }

private:
    std::once_flag once_;
    std::promise<void> promise_;
    std::shared_future<void> opened_;
};

/// A thread-safe list of events, to check the order things happened in.
class journal {
public:
    void add(std::string entry) {
        std::lock_guard lock(mutex_);
        entries_.push_back(std::move(entry));
    }
    std::vector<std::string> entries() const {
        std::lock_guard lock(mutex_);
        return entries_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> entries_;
};

/// Routes troupe's log lines to a ring buffer for the lifetime of this object. Lines read as
/// "<level> <message>", e.g. "error greeter#1: ...".
class log_capture {
public:
    explicit log_capture(spdlog::level::level_enum level = spdlog::level::trace)
        : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1024)), previous_(troupe::logger()) {
        auto l = std::make_shared<spdlog::logger>("troupe", sink_);
        l->set_pattern("%l %v");
        l->set_level(level);
        troupe::set_logger(std::move(l));
    }
    ~log_capture() { troupe::set_logger(previous_); }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;

    /// Every captured line, oldest first, without the line end.
    std::vector<std::string> lines() const {
        auto out = sink_->last_formatted();
        for (auto& l : out) {
            while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) {
                l.pop_back();
            }
        }
        return out;
    }
    /// The captured lines that start with `prefix` (a level name such as "error ").
    std::vector<std::string> lines_starting(const std::string& prefix) const {
        auto all = lines();
        std::vector<std::string> out;
        std::copy_if(all.begin(), all.end(), std::back_inserter(out),
                     [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
        return out;
    }

private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
    std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace troupe_test
