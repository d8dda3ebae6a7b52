#pragma once
/// \file
/// generator<T>: an asynchronous generator for coroutine handlers. Its body `co_yield`s values
/// and, between yields, `co_await`s whatever a troupe::task can (asks, troupe::sleep_for, other
/// tasks); a task of the same actor pulls the values one at a time:
///
///     troupe::generator<int> countdown(int from) {
///         for (int i = from; i > 0; --i) {
///             co_await troupe::sleep_for(1s);
///             co_yield i;
///         }
///     }
///     ...
///     auto gen = countdown(3);
///     while (std::optional<int> v = co_await gen.next()) {
///         use(*v);
///     }

#include <troupe/async/await.hpp>
#include <troupe/async/detail/scope.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/errors.hpp>

#include <concepts>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace troupe {

template <class T>
class generator;

namespace detail {

/// Before a next() resumes a generator: throws troupe::error if another next() of it is still
/// pending or if this thread does not run the generator's actor (`home`, bound to the first
/// consumer's actor if the generator was made outside any), and troupe::cancelled if the actor
/// is stopping or `scope` was cancelled.
void begin_next(cell_base*& home, bool pending, const cancel_scope* scope);
/// Destroying a generator while one of its next() is pending would free a frame that an awaited
/// event is about to resume: a bug in the program. Logs it and terminates.
[[noreturn]] void generator_destroyed_while_pending() noexcept;

/// The promise of a generator: a task's (the same awaits, scopes and cancellation) that also
/// yields. Its continuation is the consumer of the pending next(), to which a yield and the
/// end of the body transfer control.
template <class T>
class generator_promise final : public task_promise_base {
public:
    generator<T> get_return_object() noexcept;

    /// Suspends the body and resumes the consumer, whose next() takes the value.
    struct yield_awaiter {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<generator_promise> h) noexcept {
            return h.promise().continuation_;
        }
        void await_resume() const noexcept {}
    };
    /// The value is moved (or copied) into the promise before the body suspends, so nothing of
    /// the co_yield expression has to live across the suspension.
    template <class U = T>
    requires std::constructible_from<T, U> yield_awaiter yield_value(U&& v) {
        value_.emplace(std::forward<U>(v));
        return {};
    }
    void return_void() noexcept {}

    std::optional<T> value_;     // the last value yielded, until next() takes it
    cell_base* home_ = nullptr;  // the actor whose executor alone may resume the body
    bool pending_ = false;       // a next() has resumed the body and not yet been resumed itself
};

/// The awaitable of generator::next().
template <class T>
class generator_next {
public:
    using troupe_awaitable = void;
    explicit generator_next(std::coroutine_handle<generator_promise<T>> h) noexcept : h_(h) {}

    bool await_ready() const noexcept { return !h_ || h_.done(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> consumer) {
        generator_promise<T>& p = h_.promise();
        cancel_scope* scope = scope_of(consumer);
        begin_next(p.home_, p.pending_, scope);
        // The body's awaits belong to whoever waits for it now: they are cancelled with the
        // consumer's scope, whatever scope an earlier next() ran in.
        p.scope_ = scope;
        p.continuation_ = consumer;
        p.pending_ = true;
        return h_;  // symmetric transfer: runs the body to its next co_yield, or its end
    }
    std::optional<T> await_resume() {
        if (!h_) {
            throw no_state("co_await next() of an empty troupe::generator");
        }
        generator_promise<T>& p = h_.promise();
        p.pending_ = false;
        if (p.error_) {
            std::rethrow_exception(std::exchange(p.error_, nullptr));  // once; then the end
        }
        if (!p.value_) {
            return std::nullopt;  // the body has ended
        }
        std::optional<T> out(std::move(p.value_));
        p.value_.reset();
        return out;
    }

private:
    std::coroutine_handle<generator_promise<T>> h_;
};

}  // namespace detail

/// An asynchronous generator of T values for the coroutines of one actor. Lazy: the body starts
/// at the first next(). Move-only; destroying it destroys the body's frame (running the
/// destructors of its locals) wherever the body stands, which must not be inside an await: do
/// not destroy a generator while one of its next() is pending.
template <class T>
class [[nodiscard]] generator {
    static_assert(std::is_object_v<T> && !std::is_array_v<T> && std::is_same_v<T, std::remove_cv_t<T>>,
                  "troupe::generator<T>: T must be a non-const value type (no reference, array or void)");

public:
    using promise_type = detail::generator_promise<T>;
    using value_type = T;

    generator() = default;
    generator(generator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    generator& operator=(generator&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~generator() { reset(); }

    /// `co_await gen.next()`, inside a task (or another generator) of the generator's actor:
    /// runs the body to its next `co_yield` and gives that value, or std::nullopt once the body
    /// has ended (and at every later call). An exception that escapes the body is thrown here,
    /// once. Fails at once with troupe::cancelled, without resuming the body, if the actor is
    /// stopping or the consumer's cancel scope is cancelled; with troupe::error if another
    /// next() of this generator is still pending, or if called from another actor than the one
    /// that made the generator.
    detail::generator_next<T> next() noexcept { return detail::generator_next<T>(h_); }

    /// True unless default-constructed or moved from.
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

    explicit generator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}

private:
    void reset() noexcept {
        if (h_) {
            if (h_.promise().pending_) {
                detail::generator_destroyed_while_pending();
            }
            h_.destroy();
            h_ = {};
        }
    }
    std::coroutine_handle<promise_type> h_;
};

namespace detail {

template <class T>
generator<T> generator_promise<T>::get_return_object() noexcept {
    // Made while an actor is being constructed (a member initializer) or inside a turn: that
    // actor is the one whose state the body may touch, so only it may resume the body.
    home_ = constructing_cell() != nullptr ? constructing_cell() : running_cell();
    return generator<T>(std::coroutine_handle<generator_promise>::from_promise(*this));
}

}  // namespace detail
}  // namespace troupe
