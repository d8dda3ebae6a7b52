#pragma once
/// \file
/// Input tasks (Actorio's register_input_task): an actor registers an event source that is not
/// a message (a blocking call run on a separate pool, a file descriptor becoming readable) and
/// a handler. The outcome reaches the handler as one of the actor's own messages: in turn with
/// the others, never while another of its handlers runs. Every input task of an actor ends
/// when the actor does. Both kinds run on services of the actor's system (its blocking pool,
/// its io_service), shut down with it. (Timers need nothing new: sys.timers().send_after(troupe::ref{this},
/// delay, tick{}) is already an input task.)

#include <troupe/async/await.hpp>
#include <troupe/async/detail/input_state.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/ref.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <variant>

namespace troupe {

/// The outcome of an input task: a value of type T, or the exception that ended the task.
template <class T>
class result {
public:
    /// The type of the value (void for a call that returns nothing).
    using value_type = T;

    /// A result holding a value made from `args` (for result<void>, no arguments).
    template <class... Args>
    explicit result(std::in_place_t, Args&&... args) : outcome_(std::in_place_index<0>, std::forward<Args>(args)...) {}
    /// A failed result holding `error` (not null).
    static result failure(std::exception_ptr error) { return result(std::move(error)); }

    /// True if it holds a value.
    bool ok() const noexcept { return outcome_.index() == 0; }
    /// The same as ok().
    explicit operator bool() const noexcept { return ok(); }
    /// The value, or throws the error.
    decltype(auto) get() & {
        rethrow_if_error();
        if constexpr (!std::is_void_v<T>) {
            return static_cast<T&>(std::get<0>(outcome_));
        }
    }
    decltype(auto) get() const& {
        rethrow_if_error();
        if constexpr (!std::is_void_v<T>) {
            return static_cast<const T&>(std::get<0>(outcome_));
        }
    }
    /// The value moved out, or throws the error.
    T get() && {
        rethrow_if_error();
        if constexpr (!std::is_void_v<T>) {
            return std::move(std::get<0>(outcome_));
        }
    }
    /// The error, or null if it holds a value.
    std::exception_ptr error() const noexcept { return ok() ? nullptr : std::get<1>(outcome_); }

private:
    explicit result(std::exception_ptr error) : outcome_(std::in_place_index<1>, std::move(error)) {}
    void rethrow_if_error() const {
        if (!ok()) {
            std::rethrow_exception(std::get<1>(outcome_));
        }
    }

    std::variant<detail::stored_t<T>, std::exception_ptr> outcome_;
};

/// The handle of an input task. Copies refer to the same task; destroying a handle does not
/// cancel the task (the actor's end does).
class input_task {
public:
    /// A handle to no task: cancel() does nothing, active() is false.
    input_task() = default;
    /// Ends the task: its handler is not called again (a call already queued is skipped; a
    /// blocking function already running finishes, and its result is dropped). Idempotent;
    /// any thread, including the handler itself.
    void cancel() const noexcept {
        if (state_) {
            state_->cancel();
        }
    }
    /// True until the task ended: cancelled, its actor ended, a blocking call's handler was
    /// called (or its result dropped), or a watch's notification was refused.
    bool active() const noexcept { return state_ && state_->active(); }

    /// For the runtime: a handle to `state`.
    explicit input_task(std::shared_ptr<detail::input_state> state) noexcept : state_(std::move(state)) {}

private:
    std::shared_ptr<detail::input_state> state_;
};

/// The most threads the blocking pool of a system runs at once; more calls wait in its queue.
/// Threads are started when calls wait and no thread is idle, and end after two idle seconds.
inline constexpr std::size_t blocking_pool_threads = 64;

namespace detail {
/// What a blocking function F returns, as a result<...> holds it.
template <class F>
using blocking_value_t = std::remove_cvref_t<std::invoke_result_t<F&>>;

/// Runs `fn` and captures its value or its exception.
template <class F>
result<blocking_value_t<F>> capture(F& fn) noexcept {
    using T = blocking_value_t<F>;
    try {
        if constexpr (std::is_void_v<T>) {
            fn();
            return result<T>(std::in_place);
        } else {
            return result<T>(std::in_place, fn());
        }
    } catch (...) {
        return result<T>::failure(std::current_exception());
    }
}
}  // namespace detail

/// Runs `fn()` on the blocking pool of `target`'s system (threads apart from its workers), then
/// calls `handler(actor, troupe::result<R>)` as one of `target`'s messages, R being what `fn`
/// returns. `handler` is a member function (`&my_actor::on_done`) or a function taking the
/// actor first; it may return a troupe::task (a coroutine handler). An exception it throws is
/// the actor's failure, as for a tell. `fn` does not run if the actor ended before a pool thread
/// took it; a result arriving after the actor's stop was requested is dropped quietly (it is
/// not a dead letter); one still queued when the actor fails or is killed is a dead letter.
template <class A, class F, class H>
input_task run_blocking(const ref<A>& target, F fn, H handler) {
    using R = detail::blocking_value_t<F>;
    static_assert(std::is_invocable_v<H&, A&, result<R>>,
                  "troupe::run_blocking: the handler must be callable as handler(actor, troupe::result<R>), R being "
                  "what the blocking function returns: a member function `void on_done(troupe::result<R>)` will do");
    if (!target) {
        throw actor_dead("troupe::run_blocking: the ref is empty");
    }
    detail::counted_ptr<detail::cell_base> home(&detail::local_cell_of(target, "troupe::run_blocking"));
    troupe::system& sys = home->system();
    auto call = std::make_shared<detail::blocking_call>();
    auto work = [cell = std::move(home), fn = std::move(fn), handler = std::move(handler), call]() mutable {
        if (!call->active() || !cell->alive()) {
            call->drop();
            return;
        }
        result<R> outcome = detail::capture(fn);
        if (!call->active()) {
            return;  // cancelled while it ran
        }
        try {
            auto* e = new detail::result_envelope<A, H, result<R>>(std::move(handler), std::move(outcome), call);
            const detail::send_status s = cell->try_send(e);
            if (s != detail::send_status::accepted) {
                delete e;
                call->drop();
                if (s == detail::send_status::full) {
                    detail::log_refused_input(*cell, "a blocking call's result was dropped");
                }
            }
        } catch (...) {  // out of memory
            call->drop();
        }
    };
    detail::submit_blocking(sys, std::make_unique<detail::blocking_job_of<decltype(work)>>(std::move(work)));
    return input_task(std::move(call));
}

/// Runs `fn()` on the blocking pool of `sys` and returns a future of its result. A function
/// not started when the system shuts its services down never runs (the future breaks: it fails
/// with troupe::broken_promise); one running is waited for. Throws troupe::error once `sys` has
/// shut its services down.
template <class F>
future<detail::blocking_value_t<F>> run_blocking(troupe::system& sys, F fn) {
    using R = detail::blocking_value_t<F>;
    promise<R> done;
    future<R> f = done.get_future();
    auto work = [fn = std::move(fn), done = std::move(done)]() mutable {
        result<R> outcome = detail::capture(fn);
        try {
            if (!outcome.ok()) {
                done.set_exception(outcome.error());
            } else if constexpr (std::is_void_v<R>) {
                done.set_value();
            } else {
                done.set_value(std::move(outcome).get());
            }
        } catch (...) {  // the value's move threw: the promise, destroyed unset, breaks the future
        }
    };
    detail::submit_blocking(sys, std::make_unique<detail::blocking_job_of<decltype(work)>>(std::move(work)));
    return f;
}

/// run_blocking(sys, fn) on the system of the running actor (or, inside a blocking function,
/// of its pool). Inside a coroutine handler, `co_await troupe::run_blocking(fn)` waits for it
/// without holding a worker; if the actor stops meanwhile the await ends with
/// troupe::cancelled and the result is dropped. Throws troupe::error elsewhere (main, another
/// library's thread): there, name the system.
template <class F>
future<detail::blocking_value_t<F>> run_blocking(F fn) {
    return run_blocking(detail::blocking_system(), std::move(fn));
}

/// Calls `handler(actor)` as one of `target`'s messages each time the file descriptor `fd` is
/// readable (or at end of file, or on an error: a read then says which). One notification at a
/// time: the watch is re-armed only after the handler has returned (for a coroutine handler,
/// completed), and level-triggered: if data is still unread then, the handler is called again.
/// So a handler may read everything available (one call per burst of data) or one chunk per
/// call (shorter turns). At end of file the descriptor stays readable: cancel the watch, or
/// stop the actor. The system's io_service (troupe/async/io_service.hpp) watches a duplicate
/// of `fd`, closed when the watch ends: when cancel() returns, or right after the actor ends
/// (at the latest when its system's shutdown() returns); until then the open file (a socket,
/// say) stays open even if `fd` is closed. A notification that finds the actor's bounded
/// mailbox full is not lost: the I/O thread never waits for room, and tries again a little
/// later (the data waits in the descriptor). Throws troupe::error if `fd` cannot be watched
/// (not open; a regular file, which is always readable).
template <class A, class H>
input_task watch_readable(const ref<A>& target, int fd, H handler) {
    static_assert(std::is_invocable_v<H&, A&>,
                  "troupe::watch_readable: the handler must be callable as handler(actor): a member function "
                  "`void on_readable()` will do");
    if (!target) {
        throw actor_dead("troupe::watch_readable: the ref is empty");
    }
    detail::counted_ptr<detail::cell_base> home(&detail::local_cell_of(target, "troupe::watch_readable"));
    auto w = std::make_shared<detail::readable_watch<A, H>>(std::move(home), std::move(handler));
    detail::start_watch(w, fd);
    return input_task(std::move(w));
}

}  // namespace troupe
