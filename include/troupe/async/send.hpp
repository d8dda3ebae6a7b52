#pragma once
/// \file
/// Awaited sends, with backpressure: inside an actor's coroutine handler,
/// `co_await target.send(msg)` queues `msg` for `target`; while the target's bounded mailbox is
/// full, the coroutine waits, suspended (its worker runs other actors meanwhile), until there is
/// room for it. Flow control between actors builds on this.

#include <troupe/async/await.hpp>
#include <troupe/async/detail/scope.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/detail/cell.hpp>

#include <coroutine>
#include <utility>

namespace troupe {
namespace detail {

/// What `co_await target.send(m)` awaits in a task: the task's await_transform makes it from
/// the pending_send that ref<A>::send returns. See ref<A>::send for what it does.
///
/// How it waits: a send that finds no room registers this awaiter (a send_waiter) with the
/// target and suspends. Whoever frees a slot of the target (a message handled or refused) while
/// senders are registered takes that slot for the oldest of them, queues its message and posts
/// its resumption: the message is queued by the time the sender resumes. Closing the target
/// wakes every registered sender with actor_dead; a cancellation of the sender unregisters it.
class send_awaiter final : private send_waiter {
public:
    using troupe_awaitable = void;
    /// Takes over the message and the target of `s`.
    explicit send_awaiter(pending_send&& s) noexcept : target_(s.take_target()) { message_ = s.take_message(); }
    send_awaiter(const send_awaiter&) = delete;
    send_awaiter& operator=(const send_awaiter&) = delete;
    /// Unregisters (if the frame dies suspended) and destroys a message that was not queued.
    ~send_awaiter();

    /// Queues the message if there is room (true: no suspension). Throws troupe::error outside
    /// an actor's coroutine, troupe::deadlock for a full mailbox of the awaiting actor itself
    /// under reentrancy::none (its mailbox waits for this coroutine: room could never come).
    bool await_ready();
    /// Registers with the target and suspends; false (go on) if room or the target's end came
    /// meanwhile. Throws troupe::cancelled if the actor or the task's scope is being cancelled.
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return suspend(h, scope_of(h));
    }
    /// Returns once the message is queued. Throws troupe::actor_dead if the target no longer
    /// takes messages, troupe::cancelled if the await was cancelled first; the message is then
    /// destroyed, never delivered.
    void await_resume();

private:
    bool claim() noexcept override;
    bool suspend(std::coroutine_handle<> h, cancel_scope* scope);

    counted_ptr<cell_base> target_;
    cell_base* home_ = nullptr;  // the awaiting coroutine's actor
    await_slot slot_;
    resumer* resumer_ = nullptr;  // slot_'s, while registered
    send_status status_ = send_status::full;
    bool waiting_ = false;  // registered with the target (only the awaiting actor's thread reads it)
};

}  // namespace detail

inline detail::send_awaiter detail::task_promise_base::await_transform(pending_send&& s) noexcept {
    return send_awaiter(std::move(s));
}

}  // namespace troupe
