#pragma once
/// \file
/// manual_clock: a timer source whose time stands still until a test advances it. Timers
/// (send_after, send_every, sleep_for) fire on the thread that calls advance(), in deadline
/// order, and never by themselves.

#include <troupe/core/detail/timer_source.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace troupe::testing {

/// A timer source on a virtual time that starts at zero. Give it to a system through
/// system_options::timers, or use test_system. Timers fire as they do on a system's timer
/// thread: advance() runs their functions as a runtime thread, so a tell that finds a `block`
/// mailbox full is a dead letter instead of a wait; and a cancelled timer leaves the clock at
/// once, its function destroyed.
class manual_clock final : public troupe::detail::timer_source {
public:
    /// Virtual times and delays, in the steady clock's unit.
    using duration = std::chrono::steady_clock::duration;

    manual_clock();
    ~manual_clock() override;
    manual_clock(const manual_clock&) = delete;
    manual_clock& operator=(const manual_clock&) = delete;

    /// Schedules `fn` at now() + `delay` (a negative delay counts as zero), then every
    /// `period` if it is not zero. Any thread; never runs `fn`. Throws troupe::error after
    /// shutdown(). Cancel it through troupe::timer(state).cancel().
    std::shared_ptr<troupe::detail::timer_state> add(duration delay, duration period,
                                                     std::function<void()> fn) override;
    /// Drops every pending timer; later add() calls throw. Idempotent.
    void shutdown() override;
    /// The number of timers still pending (not cancelled, and for one-shot ones not fired).
    std::size_t pending() const override;

    /// The virtual time: how far the clock was advanced since it was made.
    duration now() const;
    /// Moves the time forward by `d`, firing on this thread every timer that falls due, in
    /// deadline order (timers due at the same instant in the order they were added). A
    /// periodic timer fires once per period that elapses; timers added by the fired functions
    /// fire too if they fall due within `d`. Returns the number of firings. Throws
    /// troupe::error for a negative `d` or when called from a timer's function.
    std::size_t advance(duration d);
    /// The deadline of the earliest timer still pending, if any.
    std::optional<duration> next_deadline() const;

private:
    std::shared_ptr<troupe::detail::timer_heap> heap_;  // deadlines on the virtual time line
    mutable std::mutex mutex_;                          // guards now_ and firing_
    duration now_{};
    bool firing_ = false;  // advance() is running: a timer's function must not advance the clock
};

}  // namespace troupe::testing
