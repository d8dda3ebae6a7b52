// An actor's turn: taking messages from the mailbox (or the messages held back while a
// coroutine handler is suspended), running them, and the bookkeeping of coroutine handlers.

#include <troupe/core/detail/cell.hpp>

#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include "cell_internals.hpp"
#include "system_state.hpp"

#include <utility>

namespace troupe::detail {

void cell_base::run_job() noexcept {
    cell_base* previous = std::exchange(running_slot(), this);
    if (phase_ == phase::starting) {
        do_start();  // the first turn: on_start before any message
    }
    const unsigned batch = system_->options.scheduler.batch;
    // Set once a turn has handled a full batch with nothing else waiting: a stream of messages.
    // Such a turn, finding the mailbox empty, lingers a moment before going idle, since going
    // idle and being scheduled again costs far more than the next message takes to arrive.
    bool streaming = false;
    for (;;) {
        for (unsigned n = 0; n < batch; ++n) {
            if (phase_ == phase::finished) {
                running_slot() = previous;
                release();  // the registry's reference, handed over by finish()
                return;
            }
            envelope* e = next_envelope();
            if (e == nullptr && streaming && linger()) {
                continue;  // more arrived while we waited a moment: no idle/reschedule round trip
            }
            if (e == nullptr) {
                bool idle = false;
                {
                    auto lock = lock_queue();  // unlocked before the cell may run elsewhere
                    idle = mailbox_.try_idle();
                }
                if (idle) {
                    // From here on another worker may run this cell: touch nothing.
                    running_slot() = previous;
                    return;
                }
                continue;
            }
            if (!hold_back(e)) {
                dispatch(e);
            }
        }
        // A full batch. Requeue behind other work, unless nothing else waits for this thread.
        if (phase_ == phase::finished || executor_->others_waiting()) {
            break;
        }
        streaming = true;
    }
    if (phase_ == phase::finished) {
        running_slot() = previous;
        release();
        return;
    }
    running_slot() = previous;
    executor_->yield(this);
}

bool cell_base::linger() noexcept {
    if (executor_->others_waiting()) {
        return false;
    }
    for (int i = 0; i < 256; ++i) {
        if (mailbox_.has_pushed()) {
            return true;
        }
        cpu_relax();
    }
    return false;
}

envelope* cell_base::next_envelope() noexcept {
    auto lock = lock_queue();  // drop_oldest: a sender may be taking the oldest message
    if (async_ && async_->paused == 0 && async_->stash_head != nullptr) {
        return async_->take_stash();  // older than anything still in the mailbox
    }
    return mailbox_.pop();
}

bool cell_base::hold_back(envelope* e) noexcept {
    // relaxed: a kill is noticed at the latest when its envelope is taken (the mailbox orders that).
    if (!async_ && !kill_requested_.load(std::memory_order_relaxed)) {
        return false;  // the common case: an actor with no coroutines, children or kill
    }
    const envelope::kind k = e->what();
    if (k == envelope::kind::resume || k == envelope::kind::kill) {
        return false;
    }
    if (kill_requested_.load(std::memory_order_acquire)) {
        if (k == envelope::kind::message) {
            refuse(e, "was killed before handling the message");
            return true;
        }
        if (k == envelope::kind::stop) {
            // A kill overtakes a stop still queued: no on_stop, the ending is `killed`. The kill
            // follows (kill() posts it after raising the flag, or the actor had already ended),
            // and whoever waits for the stop waits for the end it brings.
            e->dispose();
            return true;
        }
    }
    if (!async_) {
        return false;
    }
    if (async_->paused != 0) {
        // A handler is suspended (reentrancy::none): keep the message for later, in order. A
        // stop request cancels the suspended handler's awaits now, so it cannot wait for ever.
        if (k == envelope::kind::stop) {
            begin_cancelling();
        }
        auto lock = lock_queue();
        async_->stash(e);
        return true;
    }
    if (async_->settling && k == envelope::kind::message) {
        // The actor is ending and only waits for its coroutines and children.
        refuse(e, "is ending: it did not handle the message");
        return true;
    }
    return false;
}

void cell_base::refuse(envelope* e, const char* why) noexcept {
    release_slot(*e);
    try {
        if (!e->reject(std::make_exception_ptr(actor_dead(name() + " " + why)))) {
            system_->dead_letter(*this, e->type(), why);
        }
    } catch (...) {}
    e->dispose();
}

namespace {
/// The envelope whose handler runs on this thread, and whether a coroutine adopted it.
struct dispatch_slot {
    envelope* current = nullptr;
    bool adopted = false;
};
thread_local dispatch_slot dispatching;
}  // namespace

envelope* adopt_dispatched_envelope() noexcept {
    dispatching.adopted = dispatching.current != nullptr;
    return dispatching.current;
}

void cell_base::dispatch(envelope* e) noexcept {
    release_slot(*e);  // it leaves the mailbox's count as it is handled: room for a sender
    // Saved and restored: a handler may dispatch another actor's turn on this thread (a
    // blocking wait on a manual scheduler).
    const dispatch_slot outer = std::exchange(dispatching, {e, false});
    try {
        e->run(object());
    } catch (...) {
        // Not adopted: a coroutine adopts its envelope just before a resume that cannot throw.
        fail(std::current_exception(), e->type());
    }
    // An adopted envelope belongs to its coroutine (it may be gone already: touch nothing).
    const bool adopted = dispatching.adopted;
    dispatching = outer;
    if (!adopted) {
        e->dispose();
    }
}

void cell_base::task_started() {
    ++extras().live_tasks;
    if (policy_ == reentrancy::none) {
        ++async_->paused;
    }
}

void cell_base::task_finished(std::exception_ptr error, const std::type_info& message) noexcept {
    --async_->live_tasks;
    if (policy_ == reentrancy::none) {
        --async_->paused;
    }
    if (error) {
        fail(std::move(error), message);
    } else {
        try_finish_settled();
    }
}

bool cell_base::cancelling() const noexcept {
    return async_ && async_->cancelling;
}

void cell_base::add_waiter(waiter& w) noexcept {
    w.prev_waiter_ = nullptr;
    w.next_waiter_ = async_->waiters;
    if (async_->waiters != nullptr) {
        async_->waiters->prev_waiter_ = &w;
    }
    async_->waiters = &w;
}

void cell_base::remove_waiter(waiter& w) noexcept {
    if (w.prev_waiter_ != nullptr) {
        w.prev_waiter_->next_waiter_ = w.next_waiter_;
    } else if (async_->waiters == &w) {
        async_->waiters = w.next_waiter_;
    }
    if (w.next_waiter_ != nullptr) {
        w.next_waiter_->prev_waiter_ = w.prev_waiter_;
    }
    w.prev_waiter_ = w.next_waiter_ = nullptr;
}

void cell_base::begin_cancelling() noexcept {
    if (!async_ || async_->cancelling) {
        return;
    }
    async_->cancelling = true;
    // cancel() only posts a resumption, so the list does not change under us.
    for (waiter* w = async_->waiters; w != nullptr; w = w->next_waiter_) {
        w->cancel();
    }
}

bool cell_base::post_internal(envelope* e) noexcept {
    return admitted(mailbox_.push_internal(e));
}

}  // namespace troupe::detail
