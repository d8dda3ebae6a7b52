#pragma once
/// \file
/// Cancel scopes with deadlines, for coroutine handlers: `co_await troupe::move_on_after(d, t)`
/// gives up on a task after a while, `co_await troupe::fail_after(d, t)` fails with
/// troupe::timeout. Giving up cancels the task: its suspended awaits end with troupe::cancelled
/// and it unwinds before the scope returns.

#include <troupe/async/await.hpp>
#include <troupe/async/detail/scope.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/timers.hpp>

#include <chrono>
#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace troupe {
namespace detail {

/// Reads the cancel scope of the awaiting task without suspending it.
struct current_scope {
    using troupe_awaitable = void;
    cancel_scope* scope = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
        scope = scope_of(h);
        return false;  // resume at once
    }
    cancel_scope* await_resume() const noexcept { return scope; }
};

/// Awaits `t` with its awaits in `scope`.
template <class T>
class in_scope {
public:
    using troupe_awaitable = void;
    in_scope(task<T> t, cancel_scope& scope) noexcept : h_(t.release()), scope_(&scope) {}
    in_scope(in_scope&& o) noexcept : h_(std::exchange(o.h_, {})), scope_(o.scope_) {}
    ~in_scope() {
        if (h_) {
            h_.destroy();
        }
    }
    bool await_ready() const noexcept { return !h_; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h_.promise().continuation_ = awaiting;
        h_.promise().scope_ = scope_;
        return h_;
    }
    T await_resume() {
        if (!h_) {
            throw no_state("co_await of an empty troupe::task");
        }
        return h_.promise().take();
    }

private:
    std::coroutine_handle<task_promise<T>> h_;
    cancel_scope* scope_;
};

/// Runs `fn` on the actor's executor, through its mailbox (past a paused or closed one).
/// False if the actor has finished.
bool post_to_actor(cell_base& cell, std::function<void()> fn);

/// Cancels a scope when a duration has passed. Made and destroyed on the actor's executor.
class deadline {
public:
    deadline(cell_base& cell, cancel_scope& scope, std::chrono::steady_clock::duration d);
    ~deadline();
    deadline(const deadline&) = delete;
    deadline& operator=(const deadline&) = delete;
    /// True if the deadline passed and cancelled the scope.
    bool expired() const noexcept { return token_->expired; }

private:
    struct token {
        cancel_scope* scope;  // null once the deadline is disarmed
        bool expired = false;
    };
    std::shared_ptr<token> token_;
    timer timer_;
};

/// True if a cancellation seen by a deadline's scope came from above it (or from the actor).
bool cancelled_from_above(const cancel_scope* outer);

}  // namespace detail

/// Runs `t` (inside an actor's coroutine handler) and gives its result, or nothing if `d` passes
/// first: `t` is then cancelled, and has unwound when this returns.
template <class T>
task<std::optional<T>> move_on_after(std::chrono::steady_clock::duration d, task<T> t) {
    detail::cancel_scope* outer = co_await detail::current_scope{};
    detail::cancel_scope scope(outer);
    detail::deadline timer(*detail::running_cell(), scope, d);
    try {
        co_return co_await detail::in_scope<T>(std::move(t), scope);
    } catch (const troupe::cancelled&) {
        if (!timer.expired() || detail::cancelled_from_above(outer)) {
            throw;
        }
    }
    co_return std::nullopt;
}

/// As move_on_after for a task<void>: true if it finished, false if `d` passed first.
inline task<bool> move_on_after(std::chrono::steady_clock::duration d, task<void> t) {
    detail::cancel_scope* outer = co_await detail::current_scope{};
    detail::cancel_scope scope(outer);
    detail::deadline timer(*detail::running_cell(), scope, d);
    try {
        co_await detail::in_scope<void>(std::move(t), scope);
        co_return true;
    } catch (const troupe::cancelled&) {
        if (!timer.expired() || detail::cancelled_from_above(outer)) {
            throw;
        }
    }
    co_return false;
}

/// Runs `t` and gives its result; if `d` passes first, `t` is cancelled and, once it has
/// unwound, this throws troupe::timeout.
template <class T>
task<T> fail_after(std::chrono::steady_clock::duration d, task<T> t) {
    if constexpr (std::is_void_v<T>) {
        if (!co_await move_on_after(d, std::move(t))) {
            throw troupe::timeout("fail_after: the task did not finish in time");
        }
    } else {
        std::optional<T> r = co_await move_on_after(d, std::move(t));
        if (!r) {
            throw troupe::timeout("fail_after: the task did not finish in time");
        }
        co_return std::move(*r);
    }
}

}  // namespace troupe
