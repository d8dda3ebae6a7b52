#pragma once
/// \file
/// timers: send a message (or run a function) after a delay or periodically; cancellable.

#include <troupe/core/address.hpp>
#include <troupe/core/ref.hpp>

#include <chrono>
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
    /// Cancels the timer; it will not fire again. Idempotent; any thread.
    void cancel() noexcept;
    /// True until it is cancelled or (for a one-shot timer) has fired.
    bool active() const noexcept;

    explicit timer(std::shared_ptr<detail::timer_state> s) noexcept : state_(std::move(s)) {}

private:
    std::shared_ptr<detail::timer_state> state_;
};

/// The timer service of a system: one thread that sleeps until the next deadline.
class timers {
public:
    using duration = std::chrono::steady_clock::duration;

    /// Runs `fn` on the timer thread after `delay`. Keep it short; send a message for real work.
    timer after(duration delay, std::function<void()> fn);
    /// Runs `fn` every `period`, the first time after one period.
    timer every(duration period, std::function<void()> fn);

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
