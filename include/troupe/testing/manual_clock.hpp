#pragma once
/// \file
/// manual_clock: a timer source whose time stands still until a test advances it. Timers
/// (send_after, send_every, sleep_for) fire on the thread that calls advance(), in deadline
/// order, and never by themselves.

#include <troupe/core/detail/timer_source.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <vector>

namespace troupe::testing {

/// A timer source on a virtual time that starts at zero. Give it to a system through
/// system_options::timers, or use test_system.
class manual_clock final : public troupe::detail::timer_source {
public:
    /// Virtual times and delays, in the steady clock's unit.
    using duration = std::chrono::steady_clock::duration;

    manual_clock() = default;
    ~manual_clock() override;
    manual_clock(const manual_clock&) = delete;
    manual_clock& operator=(const manual_clock&) = delete;

    /// Schedules `fn` at now() + `delay` (a negative delay counts as zero), then every
    /// `period` if it is not zero. Any thread; never runs `fn`. Throws troupe::error after
    /// shutdown().
    std::shared_ptr<troupe::detail::timer_state> add(duration delay, duration period,
                                                     std::function<void()> fn) override;
    /// Drops every pending timer; later add() calls throw. Idempotent.
    void shutdown() override;

    /// The virtual time: how far the clock was advanced since it was made.
    duration now() const;
    /// Moves the time forward by `d`, firing on this thread every timer that falls due, in
    /// deadline order (timers due at the same instant in the order they were added). A
    /// periodic timer fires once per period that elapses; timers added by the fired functions
    /// fire too if they fall due within `d`. Returns the number of firings. Throws
    /// troupe::error for a negative `d` or when called from a timer's function.
    std::size_t advance(duration d);
    /// The deadline of the earliest timer still pending (not cancelled), if any.
    std::optional<duration> next_deadline() const;
    /// The number of timers still pending (not cancelled, and for one-shot ones not fired).
    std::size_t pending() const;

private:
    struct entry {
        duration due;
        std::uint64_t seq;
        std::shared_ptr<troupe::detail::timer_state> state;
        bool operator>(const entry& o) const noexcept { return due != o.due ? due > o.due : seq > o.seq; }
    };
    /// Removes cancelled timers from the top of the heap. With the lock held.
    void drop_cancelled() const;
    /// Fires `e`'s function and re-arms it if it is periodic. Without the lock.
    void fire(entry e);

    mutable std::mutex mutex_;
    mutable std::priority_queue<entry, std::vector<entry>, std::greater<>> heap_;
    duration now_{};
    std::uint64_t seq_ = 0;
    bool stopped_ = false;
    bool firing_ = false;  // advance() is running: a timer's function must not advance the clock
};

}  // namespace troupe::testing
