#pragma once
/// \file
/// task<T>: a lazy coroutine. An actor's handler may be one (`troupe::task<int> handle(m)`):
/// the runtime starts it, it resumes only on its actor's executor, and its result answers the
/// ask. Inside, `co_await` another task, a troupe::future (an ask) or troupe::sleep_for.

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/envelope_pool.hpp>
#include <troupe/core/detail/envelopes.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace troupe {

template <class T = void>
class task;

namespace detail {

/// Marks a type a task may co_await: troupe's own awaitables, which resume on the actor.
template <class U>
struct is_task_awaitable : std::false_type {};
template <class U>
requires requires {
    typename U::troupe_awaitable;
}
struct is_task_awaitable<U> : std::true_type {};

class cancel_scope;
class send_awaiter;

/// A root task (a coroutine handler): what the runtime needs when it ends. Empty for tasks
/// that are awaited by other tasks.
struct task_root {
    cell_base* cell = nullptr;
    const std::type_info* message = nullptr;
    state_base* reply = nullptr;  // one reference, or null for a tell
    void (*finish)(std::coroutine_handle<> frame) noexcept = nullptr;
    // The envelope the handler was started from: freed after the frame, so that a handler that
    // takes its message by reference reads it, and not freed memory, after it suspends.
    envelope* message_envelope = nullptr;
};

/// The part of a task's promise that does not depend on T.
class task_promise_base {
public:
    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            task_promise_base& p = h.promise();
            if (p.continuation_) {
                return p.continuation_;  // symmetric transfer to the awaiting task
            }
            if (p.root_.finish != nullptr) {
                p.root_.finish(h);  // destroys the frame: touch nothing after
            }
            return std::noop_coroutine();
        }
        void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error_ = std::current_exception(); }

    /// Coroutine frames come from the runtime's per-thread pools, as envelopes do: a handler's
    /// frame is made and freed once per message (sizes above the pools' go to ::operator new).
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }

    task_promise_base() = default;
    task_promise_base(const task_promise_base&) = delete;
    task_promise_base& operator=(const task_promise_base&) = delete;
    ~task_promise_base() {
        if (root_.reply != nullptr) {
            root_.reply->release();
        }
    }

    /// Only troupe's awaitables: anything else would resume on a foreign thread, racing the
    /// actor's other handlers.
    template <class U>
    U&& await_transform(U&& awaitable) noexcept {
        static_assert(is_task_awaitable<std::remove_cvref_t<U>>::value,
                      "troupe::task can co_await only troupe awaitables (a task, a troupe::future, "
                      "troupe::sleep_for, ...): they resume the coroutine on its actor");
        return std::forward<U>(awaitable);
    }
    template <class U>
    auto await_transform(future<U> f) noexcept;  // defined in troupe/async/await.hpp
    /// `co_await target.send(m)`; defined in troupe/async/send.hpp (include it to use it).
    send_awaiter await_transform(pending_send&& s) noexcept;

    std::coroutine_handle<> continuation_;
    std::exception_ptr error_;
    task_root root_;
    cancel_scope* scope_ = nullptr;  // where its awaits are cancelled from; null: the actor's
};

/// The cancel scope a coroutine runs in, if it is a troupe task.
template <class P>
cancel_scope* scope_of(std::coroutine_handle<P> h) noexcept {
    if constexpr (std::is_base_of_v<task_promise_base, P>) {
        return h.promise().scope_;
    } else {
        return nullptr;
    }
}

template <class T>
class task_promise final : public task_promise_base {
public:
    task<T> get_return_object() noexcept;
    template <class U>
    void return_value(U&& v) {
        value_.emplace(std::forward<U>(v));
    }
    T take() {
        if (error_) {
            std::rethrow_exception(error_);
        }
        return std::move(*value_);
    }
    std::optional<T> value_;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() {
        if (error_) {
            std::rethrow_exception(error_);
        }
    }
};

}  // namespace detail

/// A lazy coroutine returning T. Nothing runs until it is awaited (or, for a handler, started
/// by the runtime). Move-only; destroying a task that never ran destroys its frame.
template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using troupe_awaitable = void;

    task() = default;
    task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~task() { reset(); }

    /// Awaits a task: runs it at once (on the awaiting coroutine's thread, in its scope).
    class awaiter {
    public:
        explicit awaiter(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
        bool await_ready() const noexcept { return !h_ || h_.done(); }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> awaiting) noexcept {
            h_.promise().continuation_ = awaiting;
            if (h_.promise().scope_ == nullptr) {
                h_.promise().scope_ = detail::scope_of(awaiting);
            }
            return h_;
        }
        T await_resume() {
            if (!h_) {
                throw no_state("co_await of an empty troupe::task");
            }
            return h_.promise().take();
        }

    private:
        std::coroutine_handle<promise_type> h_;
    };
    /// Awaiting a task runs it and gives its result (or rethrows its exception).
    awaiter operator co_await() && noexcept { return awaiter(h_); }

    /// True unless default-constructed or moved from.
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

    /// For the runtime: gives up ownership of the frame.
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }
    explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}

private:
    void reset() noexcept {
        if (h_) {
            h_.destroy();
            h_ = {};
        }
    }
    std::coroutine_handle<promise_type> h_;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

/// Ends a coroutine handler: answers the asker (or, for a tell, fails the actor with an
/// exception), frees the frame and tells the cell. Runs on the actor's executor.
template <class T>
void finish_handler(std::coroutine_handle<> frame) noexcept {
    auto h = std::coroutine_handle<task_promise<T>>::from_address(frame.address());
    task_root& root = h.promise().root_;
    cell_base* cell = root.cell;
    const std::type_info& message = *root.message;
    state_ptr<shared_state<T>> reply(static_cast<shared_state<T>*>(std::exchange(root.reply, nullptr)));
    std::exception_ptr unanswered;
    if (reply) {
        try {
            if constexpr (std::is_void_v<T>) {
                h.promise().take();
                reply->try_set_value();
            } else {
                reply->try_set_value(h.promise().take());
            }
        } catch (...) {
            log_returned_error(message, std::current_exception());
            reply->try_set_error(std::current_exception());
        }
    } else {
        unanswered = h.promise().error_;
    }
    envelope* kept = root.message_envelope;
    h.destroy();
    if (kept != nullptr) {
        kept->dispose();
    }
    cell->task_finished(std::move(unanswered), message);
}

}  // namespace detail

/// How the runtime runs a handler that returns task<T>: it starts the coroutine at once, on
/// the actor's executor; the coroutine's result answers the ask.
template <class T>
struct detail::handler_result<task<T>> {
    using reply_type = T;
    static constexpr bool is_async = true;

    static void start(task<T> t, state_ptr<shared_state<T>> reply, const std::type_info& message) {
        if (!t) {
            throw no_state("a handler returned an empty troupe::task");
        }
        cell_base* cell = running_cell();
        cell->task_started();
        auto h = t.release();
        h.promise().root_ =
            task_root{cell, &message, reply.release_ownership(), &finish_handler<T>, adopt_dispatched_envelope()};
        h.resume();  // may end the coroutine (and free the envelope): the caller touches neither
    }
};

}  // namespace troupe
