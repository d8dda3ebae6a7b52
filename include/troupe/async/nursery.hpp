#pragma once
/// \file
/// The nursery (structured concurrency inside an actor, as in trio and tractor): a scope in which
/// a coroutine handler starts tasks and child actors, and which ends only once all of them have.
/// The first error cancels the rest; once everything has ended, the errors are thrown together.
///
///     co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
///         n.start(fetch(1));
///         n.start(fetch(2));
///         co_return;
///     });
///
/// From a thread that is not an actor's (main), the same block runs in an actor of its own:
///
///     troupe::open_nursery(sys, [&](troupe::nursery& n) -> troupe::task<void> { ... });  // blocks

#include <troupe/async/await.hpp>
#include <troupe/async/cancel_scope.hpp>
#include <troupe/async/detail/scope.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

/// Every error that ended a nursery (none of them troupe::cancelled), in the order they came.
class error_group : public error {
public:
    explicit error_group(std::vector<std::exception_ptr> errors);
    /// The errors, first one first.
    const std::vector<std::exception_ptr>& errors() const noexcept { return errors_; }

private:
    std::vector<std::exception_ptr> errors_;
};

/// An actor of a nursery ended abnormally (the nursery's error for it).
class actor_failed : public error {
public:
    using error::error;
};

class nursery;

namespace detail {
/// Ends a task the nursery started: frees its frame.
void finish_detached(std::coroutine_handle<> frame) noexcept;
/// Waits (not cancellably) until a nursery's tasks have all ended.
struct nursery_join {
    using troupe_awaitable = void;
    nursery& n;
    resumer* r = nullptr;
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() noexcept;
};
}  // namespace detail

/// Tasks and actors started inside an open_nursery block. Use it only from the coroutine (and
/// the actor) that opened it, and only while the block runs.
class nursery {
public:
    /// Starts `t` at once, concurrently with the block, in the nursery's cancel scope. An
    /// exception from it (other than troupe::cancelled) is an error of the nursery.
    template <class T>
    void start(task<T> t) {
        auto h = run_child(std::move(t)).release();
        ++running_;
        h.promise().scope_ = &scope_;
        h.promise().root_.cell = cell_;
        h.promise().root_.finish = &detail::finish_detached;
        h.resume();  // runs until its first suspension
    }
    /// Starts a child actor that belongs to the nursery: the nursery waits for it to end, its
    /// abnormal end is an error of the nursery (troupe::actor_failed), and cancelling the
    /// nursery asks it to stop.
    template <class A, class... Args>
    ref<A> spawn(Args&&... args) {
        cell_->check_may_adopt();
        ref<A> child = cell_->system().template spawn<A>(std::forward<Args>(args)...);
        cell_->adopt(*child.local_cell());
        actors_.emplace_back(child);
        start(watch(ref<actor>(child)));
        return child;
    }
    /// Cancels everything in the nursery: suspended awaits end with troupe::cancelled, later ones
    /// fail at once, and its actors are asked to stop. The block then ends without an error
    /// (unless something failed).
    void cancel() noexcept;
    /// True once cancelled (by cancel(), a first error, or from above).
    bool cancelled() const noexcept { return scope_.cancelled(); }

    /// For open_nursery.
    nursery(detail::cell_base& cell, detail::cancel_scope* outer) : cell_(&cell), scope_(outer) {}
    nursery(const nursery&) = delete;
    nursery& operator=(const nursery&) = delete;
    detail::cancel_scope& scope() noexcept { return scope_; }
    void fail(std::exception_ptr e) noexcept;
    /// Throws what the block ended with: an error_group, troupe::cancelled (cancelled from
    /// above), or nothing.
    void finish(const detail::cancel_scope* outer);

private:
    friend struct detail::nursery_join;
    template <class T>
    task<void> run_child(task<T> t) {
        try {
            co_await std::move(t);
        } catch (...) {
            fail(std::current_exception());
        }
        child_ended();
    }
    task<void> watch(ref<actor> child);
    void child_ended() noexcept;

    detail::cell_base* cell_;
    detail::cancel_scope scope_;
    std::size_t running_ = 0;
    std::vector<std::exception_ptr> errors_;
    std::vector<ref<actor>> actors_;
    detail::resumer* joiner_ = nullptr;
};

/// Opens a nursery inside an actor's coroutine handler, runs `body(nursery&)` in it, and waits
/// until the body, every task it started and every actor it spawned have ended. The first error
/// cancels the rest; then all errors (not the cancellations they caused) are thrown together
/// as a troupe::error_group. A cancellation from above (the actor stopping, an outer scope's
/// deadline) is thrown on as troupe::cancelled once everything has unwound.
template <class F>
task<void> open_nursery(F body) {
    detail::cancel_scope* outer = co_await detail::current_scope{};
    detail::cell_base* cell = detail::running_cell();
    if (cell == nullptr) {
        throw error("troupe::open_nursery is used inside an actor's coroutine handler");
    }
    nursery n(*cell, outer);
    try {
        co_await detail::in_scope<void>(body(n), n.scope());
    } catch (...) {
        n.fail(std::current_exception());
    }
    co_await detail::nursery_join{n};
    n.finish(outer);
}

namespace detail {

/// The block of a nursery opened from outside any actor, with its type erased.
class nursery_block {
public:
    virtual ~nursery_block() = default;
    virtual task<void> run(nursery& n) = 0;
};

template <class F>
class nursery_block_of final : public nursery_block {
public:
    explicit nursery_block_of(F body) : body_(std::move(body)) {}
    task<void> run(nursery& n) override { return body_(n); }

private:
    F body_;  // lives until the nursery has ended: a coroutine lambda's captures live here
};

future<void> start_nursery(troupe::system& sys, std::unique_ptr<nursery_block> block);
void open_nursery(troupe::system& sys, std::unique_ptr<nursery_block> block);

template <class F>
std::unique_ptr<nursery_block> make_nursery_block(F body) {
    static_assert(std::is_invocable_r_v<task<void>, F&, nursery&>,
                  "troupe::open_nursery(sys, body): body must be callable as body(troupe::nursery&) and return a "
                  "troupe::task<void>");
    return std::make_unique<nursery_block_of<F>>(std::move(body));
}

}  // namespace detail

/// Opens a nursery from a thread that is not an actor's (main, a test) and blocks until it has
/// ended: `body(nursery&)` runs as the coroutine handler of an actor spawned in `sys` for it
/// (named "nursery"; its tasks resume on that actor only, and the actors `n.spawn` starts are
/// its children), with open_nursery's semantics; the errors are rethrown here as a
/// troupe::error_group, and troupe::cancelled if `sys` shut down meanwhile. Returns once that
/// actor has ended too. Throws troupe::error, without running anything, inside an actor (it
/// would block a worker: co_await open_nursery(body) there), on a runtime thread, or on a
/// system without a worker pool (a test system: use start_nursery).
template <class F>
void open_nursery(troupe::system& sys, F body) {
    detail::open_nursery(sys, detail::make_nursery_block(std::move(body)));
}

/// As open_nursery(sys, body), but returns at once: the future completes once the nursery has
/// ended, with its errors. What `body` refers to must live until then. On a test system, await it
/// with test_system::await. Throws troupe::error inside an actor (co_await open_nursery(body)
/// there: a nursery started this way would not belong to the calling actor).
template <class F>
future<void> start_nursery(troupe::system& sys, F body) {
    return detail::start_nursery(sys, detail::make_nursery_block(std::move(body)));
}

}  // namespace troupe
