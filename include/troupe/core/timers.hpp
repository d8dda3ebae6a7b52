#pragma once
/// \file
/// timers: send a message (or run a function) after a delay or periodically; cancellable.

#include <troupe/core/address.hpp>
#include <troupe/core/ref.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

namespace troupe {

namespace detail {
struct timer_state;
class timer_source;
}  // namespace detail

/// A scheduled timer. Destroying the handle does not cancel it; cancel() does.
class timer {
public:
    timer() = default;
    /// Cancels the timer: it will not fire again, and its function (with what it captured:
    /// refs, buffers) is destroyed before cancel() returns, or, if it is running just then,
    /// as soon as it returns. Idempotent; any thread, the timer's own function included.
    void cancel() noexcept;
    /// True until it is cancelled or (for a one-shot timer) has fired.
    bool active() const noexcept;

    explicit timer(std::shared_ptr<detail::timer_state> s) noexcept : state_(std::move(s)) {}

private:
    std::shared_ptr<detail::timer_state> state_;
};

/// The timer service of a system: one thread that sleeps until the next deadline. It is a
/// runtime thread: a tell from a timer that finds a `block` mailbox full is a dead letter
/// (counted, logged), never a wait that would hold up every other timer.
class timers {
public:
    using duration = std::chrono::steady_clock::duration;

    /// Runs `fn` on the timer thread after `delay`. Keep it short; send a message for real work.
    timer after(duration delay, std::function<void()> fn);
    /// Runs `fn` every `period`, the first time after one period.
    timer every(duration period, std::function<void()> fn);
    /// The number of timers pending: not cancelled and, for one-shot ones, not fired yet.
    std::size_t pending() const;

    /// Tells `msg` to `target` after `delay`.
    template <class A, class M>
    timer send_after(const ref<A>& target, duration delay, M msg) {
        return after(delay, [target, m = std::make_shared<M>(std::move(msg))] { target.tell(std::move(*m)); });
    }
    /// Tells a copy of `msg` to `target` every `period`; stops by itself when the target dies.
    template <class A, class M>
    timer send_every(const ref<A>& target, duration period, M msg) {
        return every(period, [target, msg] { target.tell(msg); });
    }
    /// Tells `msg` to the untyped `target` after `delay`.
    template <class M>
    timer send_after(const address& target, duration delay, M msg) {
        return after(delay, [target, m = std::make_shared<M>(std::move(msg))] { target.tell(std::move(*m)); });
    }
    /// Tells a copy of `msg` to the untyped `target` every `period`.
    template <class M>
    timer send_every(const address& target, duration period, M msg) {
        return every(period, [target, msg] { target.tell(msg); });
    }

    explicit timers(detail::timer_source& source) noexcept : source_(&source) {}

private:
    detail::timer_source* source_;
};

}  // namespace troupe
