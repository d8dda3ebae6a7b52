#pragma once
/// \file
/// The machinery behind troupe/async/input.hpp: the states of input tasks, the envelopes that
/// carry their outcomes to an actor, and the entry points of the two services of its system
/// they use: the blocking pool (src/async/blocking_pool.cpp) and the watches on the system's
/// io_service (src/async/input.cpp).

#include <troupe/async/task.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/envelope.hpp>
#include <troupe/core/detail/envelopes.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace troupe::detail {

/// Names a blocking call's result in logs and dead letters.
struct blocking_result {};
/// Names a readiness notification of a watched file descriptor in logs and dead letters.
struct fd_readable {};

/// What an input task's handle (troupe::input_task) reaches: cancel it, ask if it is active.
class input_state {
public:
    virtual ~input_state() = default;
    /// Ends the task: no handler call from now on. Idempotent; any thread.
    virtual void cancel() noexcept = 0;
    /// True until the task ended (cancelled, delivered for good, or its actor ended).
    virtual bool active() const noexcept = 0;
};

/// One piece of work for the blocking pool.
class blocking_job {
public:
    virtual ~blocking_job() = default;
    /// Runs on a pool thread. Must not throw.
    virtual void run() noexcept = 0;
};

/// A blocking_job made of a callable.
template <class F>
class blocking_job_of final : public blocking_job {
public:
    explicit blocking_job_of(F f) : f_(std::move(f)) {}
    void run() noexcept override { f_(); }

private:
    F f_;
};

/// Queues `job` on the blocking pool of `sys` (threads apart from its workers), made on first
/// use. Throws troupe::error once the system has shut its services down.
void submit_blocking(troupe::system& sys, std::unique_ptr<blocking_job> job);
/// The system a run_blocking(fn) without one means: the running actor's, or on a thread of a
/// blocking pool, that pool's. Throws troupe::error anywhere else.
troupe::system& blocking_system();

/// Logs (warning) that `target`'s bounded mailbox refused an input task's delivery.
void log_refused_input(const cell_base& target, const char* what) noexcept;

/// Runs an input task's handler on actor `a` as a told message is run: a handler returning a
/// troupe::task is started as a coroutine handler. An exception escapes (the actor's failure).
template <class Tag, class A, class H, class... Args>
void call_input_handler(A& a, H& handler, Args&&... args) {
    using returned = std::decay_t<std::invoke_result_t<H&, A&, Args...>>;
    if constexpr (handler_result<returned>::is_async) {
        handler_result<returned>::start(std::invoke(handler, a, std::forward<Args>(args)...), {}, typeid(Tag));
    } else {
        std::invoke(handler, a, std::forward<Args>(args)...);
    }
}

/// The state of one blocking call: pending until its handler is called, its result dropped or
/// the call cancelled, whichever comes first.
class blocking_call final : public input_state {
public:
    void cancel() noexcept override { settle(cancelled); }
    bool active() const noexcept override { return state_.load(std::memory_order_acquire) == pending; }
    /// True if the handler may run: claims the call. On the actor's executor.
    bool claim() noexcept { return settle(delivered); }
    /// The result will not be delivered (the actor ended, or its mailbox refused it).
    void drop() noexcept { settle(delivered); }

private:
    static constexpr std::uint8_t pending = 0;
    static constexpr std::uint8_t delivered = 1;
    static constexpr std::uint8_t cancelled = 2;

    bool settle(std::uint8_t to) noexcept {
        std::uint8_t expected = pending;
        // acq_rel: a cancel made in one of the actor's handlers happens before the claim in a
        // later turn anyway (the mailbox orders turns); from other threads it is a race the
        // user accepted, and the exchange only decides which side wins.
        return state_.compare_exchange_strong(expected, to, std::memory_order_acq_rel);
    }

    std::atomic<std::uint8_t> state_{pending};
};

/// Carries a blocking call's result to an actor of class A; runs its handler unless cancelled.
template <class A, class H, class Result>
class result_envelope final : public envelope {
public:
    result_envelope(H handler, Result r, std::shared_ptr<blocking_call> call)
        : handler_(std::move(handler)), result_(std::move(r)), call_(std::move(call)) {}

    void run(actor& a) override {
        if (call_->claim()) {
            call_input_handler<blocking_result>(static_cast<A&>(a), handler_, std::move(result_));
        }
    }
    bool reject(const std::exception_ptr&) noexcept override {
        call_->drop();
        return false;  // a tell: the runtime counts it as a dead letter
    }
    const std::type_info& type() const noexcept override { return typeid(blocking_result); }

private:
    H handler_;
    Result result_;
    std::shared_ptr<blocking_call> call_;
};

/// Where a watch's descriptor lives on the system's io_service (defined in src/async/input.cpp).
struct watch_port;

/// A file descriptor watched for readability on the io_service of its actor's system. The
/// watch holds a duplicate of the descriptor (so a descriptor the user closes, or whose number
/// is reused, never confuses it), waited for one notification at a time: rearm() waits again
/// once the handler has run.
class watch_state : public input_state, public std::enable_shared_from_this<watch_state> {
public:
    explicit watch_state(counted_ptr<cell_base> owner) noexcept;
    ~watch_state() override;
    void cancel() noexcept override;
    bool active() const noexcept override { return !ended_.load(std::memory_order_acquire); }
    /// Waits for readability again after the handler ran. On the owner's executor.
    void rearm() noexcept;
    /// Sends one readiness notification to the owner. On the I/O thread.
    virtual send_status notify() noexcept = 0;
    /// The actor the watch belongs to.
    cell_base& owner() const noexcept { return *owner_; }

private:
    friend class watch_table;
    counted_ptr<cell_base> owner_;
    std::unique_ptr<watch_port> port_;  // set once by start_watch, before anything reaches it
    // release/acquire: active() seen false means the duplicate is already closed.
    std::atomic<bool> ended_{false};
};

/// Watches `fd` (a duplicate of it) for `w` on its owner's system, and ends the watch when its
/// owner ends. Throws troupe::error if the descriptor cannot be watched.
void start_watch(const std::shared_ptr<watch_state>& w, int fd);

/// Carries a readiness notification to an actor of class A.
template <class A, class W>
class watch_envelope final : public envelope {
public:
    explicit watch_envelope(std::shared_ptr<W> w) noexcept : w_(std::move(w)) {}

    void run(actor& a) override { w_->fire(static_cast<A&>(a)); }
    bool reject(const std::exception_ptr&) noexcept override {
        w_->cancel();  // never handled: nothing would re-arm the watch
        return false;
    }
    const std::type_info& type() const noexcept override { return typeid(fd_readable); }

private:
    std::shared_ptr<W> w_;
};

/// Awaits a coroutine handler of a watch, then re-arms the watch.
template <class T>
task<void> rearm_after(task<T> handler, std::shared_ptr<watch_state> w) {
    co_await std::move(handler);
    w->rearm();
}

/// A watch whose notifications call `handler(actor)` on an actor of class A.
template <class A, class H>
class readable_watch final : public watch_state {
public:
    readable_watch(counted_ptr<cell_base> owner, H handler)
        : watch_state(std::move(owner)), handler_(std::move(handler)) {}

    send_status notify() noexcept override {
        try {
            auto* e =
                new watch_envelope<A, readable_watch>(std::static_pointer_cast<readable_watch>(shared_from_this()));
            const send_status s = owner().try_send(e);
            if (s != send_status::accepted) {
                delete e;
            }
            return s;
        } catch (...) {  // out of memory: the notification is lost, and so is the watch
            return send_status::dead;
        }
    }

    /// Runs the handler (unless the watch ended meanwhile), then re-arms: after the handler
    /// returns, or for a coroutine handler after it completes. On the owner's executor.
    void fire(A& a) {
        if (!active()) {
            return;
        }
        using returned = std::decay_t<std::invoke_result_t<H&, A&>>;
        if constexpr (handler_result<returned>::is_async) {
            auto wrapped = rearm_after(std::invoke(handler_, a), shared_from_this());
            handler_result<task<void>>::start(std::move(wrapped), {}, typeid(fd_readable));
        } else {
            std::invoke(handler_, a);
            rearm();
        }
    }

private:
    H handler_;
};

}  // namespace troupe::detail
