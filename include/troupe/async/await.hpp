#pragma once
/// \file
/// Awaiting inside coroutine handlers: `co_await` a troupe::future (for example an ask) or
/// `co_await troupe::sleep_for(d)`. The coroutine resumes on its actor's executor, one handler
/// at a time; when the actor begins to stop or fail, pending awaits end with troupe::cancelled.

#include <troupe/async/detail/scope.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/envelope.hpp>
#include <troupe/core/future.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>

namespace troupe {

namespace detail {

/// One suspended await of an actor's coroutine. Whichever comes first, the awaited event
/// (complete(), any thread) or the actor's cancellation (cancel(), the actor's thread), claims it
/// and posts it to the actor's mailbox, where run() resumes the coroutine. Reference counted:
/// the awaiter, the event's callback and the mailbox each hold a reference while they use it.
class resumer final : public envelope, public waiter {
public:
    resumer(std::coroutine_handle<> h, cell_base& cell) noexcept : h_(h), cell_(cell) {}

    /// The awaited event happened. Any thread. False if a cancellation claimed it first.
    bool complete() noexcept { return claim(completed); }
    void cancel() noexcept override { claim(cancelled_state); }
    /// True if the await ended by cancellation. After resumption only.
    bool was_cancelled() const noexcept { return state_.load(std::memory_order_acquire) == cancelled_state; }

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        // acq_rel: the last owner sees every use of the others.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }

    void run(actor&) override {
        cell_.remove_waiter(*this);
        h_.resume();
    }
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(resumer); }
    kind what() const noexcept override { return kind::resume; }
    void dispose() noexcept override { release(); }

private:
    static constexpr std::uint32_t pending = 0;
    static constexpr std::uint32_t completed = 1;
    static constexpr std::uint32_t cancelled_state = 2;

    bool claim(std::uint32_t outcome) noexcept {
        std::uint32_t expected = pending;
        // acq_rel: the winner's outcome (and the awaited value) happen before the resumption.
        if (!state_.compare_exchange_strong(expected, outcome, std::memory_order_acq_rel)) {
            return false;
        }
        add_ref();  // the mailbox's
        if (!cell_.post_internal(this)) {
            release();  // cannot happen while the coroutine is alive; be safe anyway
        }
        return true;
    }

    std::coroutine_handle<> h_;
    cell_base& cell_;
    std::atomic<std::uint32_t> state_{pending};
    std::atomic<std::uint32_t> refs_{1};  // the awaiter's
};

/// One reference to a resumer, for the callbacks of awaited events: released even if the
/// callback is destroyed without running (a timer dropped at shutdown).
class resumer_ref {
public:
    explicit resumer_ref(resumer* r) noexcept : r_(r) { r_->add_ref(); }
    resumer_ref(const resumer_ref& o) noexcept : r_(o.r_) { r_->add_ref(); }
    resumer_ref& operator=(const resumer_ref&) = delete;
    ~resumer_ref() { r_->release(); }
    void complete() const noexcept { r_->complete(); }

private:
    resumer* r_;
};

/// Checks, before an actor's coroutine suspends on a reply from `producer`, that the wait can
/// end: under reentrancy::none an actor cannot handle its own ask while it waits, nor the ask
/// of an actor that waits for it. Throws troupe::deadlock.
void check_await(const cell_base& waiter, const cell_base* producer);
/// Registers / removes the edge "waiter's coroutine waits for `awaited`" (reentrancy::none).
void enter_await(const cell_base& waiter, const state_base& awaited);
void leave_await(const cell_base& waiter, const state_base& awaited) noexcept;

/// What every troupe awaitable keeps while its coroutine is suspended inside an actor: the
/// resumer, registered with the actor and with the coroutine's cancel scope.
class await_slot {
public:
    await_slot() = default;
    await_slot(await_slot&& o) noexcept : r_(std::exchange(o.r_, nullptr)), scope_(o.scope_), cell_(o.cell_) {}
    await_slot& operator=(await_slot&&) = delete;
    ~await_slot() {
        if (r_ != nullptr) {
            r_->release();
        }
    }

    /// Before suspending `h` on `cell`: throws troupe::cancelled if the actor or the scope is
    /// being cancelled; otherwise registers and returns a resumer for the awaited event.
    resumer& arm(std::coroutine_handle<> h, cell_base& cell, cancel_scope* scope) {
        if (cell.cancelling() || (scope != nullptr && scope->cancelled())) {
            throw troupe::cancelled(cell.name() + ": the await was cancelled before it began");
        }
        r_ = new resumer(h, cell);
        cell.add_waiter(*r_);
        if (scope != nullptr) {
            scope->add(*r_);
        }
        scope_ = scope;
        cell_ = &cell;
        return *r_;
    }
    /// Undoes arm() when the awaited event could not be set up (the coroutine does not suspend).
    void abandon() noexcept {
        if (r_ != nullptr) {
            if (scope_ != nullptr) {
                scope_->remove(*r_);
            }
            cell_->remove_waiter(*r_);
        }
    }
    /// After the resumption: throws troupe::cancelled if the await ended by cancellation.
    void disarm() {
        if (r_ == nullptr) {
            return;
        }
        if (scope_ != nullptr) {
            scope_->remove(*r_);
        }
        if (r_->was_cancelled()) {
            throw troupe::cancelled(cell_->name() + ": the await was cancelled");
        }
    }

private:
    resumer* r_ = nullptr;
    cancel_scope* scope_ = nullptr;
    cell_base* cell_ = nullptr;
};

/// co_await of a troupe::future inside a task.
template <class T>
class future_awaiter {
public:
    using troupe_awaitable = void;
    explicit future_awaiter(future<T> f) noexcept : f_(std::move(f)) {}

    bool await_ready() const { return f_.ready(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        cell_base* cell = running_cell();
        if (cell == nullptr) {
            // Not inside an actor: resume wherever the result arrives.
            f_.then_state([h](auto&) { h.resume(); });
            return;
        }
        // The deadlock checks come first, so that a refused await leaves nothing registered.
        const bool tracked = cell->policy() == reentrancy::none;
        if (tracked) {
            check_await(*cell, f_.producer());
            enter_await(*cell, *f_.state_handle());
        }
        try {
            resumer& r = slot_.arm(h, *cell, scope_of(h));
            try {
                f_.then_state([ref = resumer_ref(&r)](auto&) { ref.complete(); });
            } catch (...) {
                slot_.abandon();
                throw;
            }
        } catch (...) {
            if (tracked) {
                leave_await(*cell, *f_.state_handle());
            }
            throw;
        }
        if (tracked) {
            waiting_cell_ = cell;
        }
    }
    T await_resume() {
        if (waiting_cell_ != nullptr) {
            leave_await(*waiting_cell_, *f_.state_handle());
        }
        slot_.disarm();
        if constexpr (std::is_void_v<T>) {
            f_.get();
        } else {
            return std::move(f_).get();
        }
    }

private:
    future<T> f_;
    await_slot slot_;
    const cell_base* waiting_cell_ = nullptr;
};

}  // namespace detail

template <class U>
auto detail::task_promise_base::await_transform(future<U> f) noexcept {
    return future_awaiter<U>(std::move(f));
}

/// An awaitable pause: `co_await troupe::sleep_for(100ms)` inside an actor's coroutine.
/// Uses the system's timers; cancelled when the actor stops.
class sleep_for {
public:
    using troupe_awaitable = void;
    explicit sleep_for(std::chrono::steady_clock::duration d) noexcept : d_(d) {}

    bool await_ready() const noexcept { return d_ <= std::chrono::steady_clock::duration::zero(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        suspend(h, detail::scope_of(h));
    }
    void await_resume() { slot_.disarm(); }

private:
    void suspend(std::coroutine_handle<> h, detail::cancel_scope* scope);

    std::chrono::steady_clock::duration d_;
    detail::await_slot slot_;
};

}  // namespace troupe
