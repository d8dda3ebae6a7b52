// An actor's life: start, stop, failure, and the end that waits for its coroutines.

#include <troupe/core/detail/cell.hpp>

#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include "cell_internals.hpp"
#include "system_state.hpp"

#include "dedicated_thread.hpp"

#include <string>

namespace troupe::detail {

void cell_base::start() {
    if (dedicated_) {
        executor_ = &system_->new_dedicated_thread();
    }
    // The start message goes in first, so that it precedes anything sent through a registry
    // lookup; the cell is scheduled only once it is registered, so on_start can find itself.
    mailbox_.push(new control(*this, envelope::kind::start));
    system_->actors.add(*this);  // the registry's reference keeps the cell alive while it runs
    executor_->schedule(this);
}

bool cell_base::request_stop() {
    auto* pill = new control(*this, envelope::kind::stop);
    switch (mailbox_.push_and_close(pill)) {
        case mailbox::push_result::queued:
            return true;
        case mailbox::push_result::became_ready:
            executor_->schedule(this);
            return true;
        case mailbox::push_result::closed:
            break;
    }
    pill->dispose();
    return false;
}

void cell_base::settle(ending how, std::exception_ptr error) noexcept {
    if (async_ && async_->live_tasks != 0) {
        // Coroutine handlers are still suspended: cancel them and end once the last one has.
        if (!async_->settling) {
            async_->settling = true;
            async_->pending_how = static_cast<std::uint8_t>(how);
            async_->pending_error = std::move(error);
        }
        mailbox_.close_to_senders();
        begin_cancelling();
        return;
    }
    finish(how, std::move(error));
}

void cell_base::do_start() noexcept {
    try {
        object().on_start();
        phase_ = phase::running;
    } catch (...) {
        troupe::logger()->error("{}: on_start threw, the actor stops: {}", name(), describe(std::current_exception()));
        finish(ending::start_failed, nullptr);
    }
}

void cell_base::do_stop() noexcept {
    settle(ending::stopped, nullptr);
}

void cell_base::fail(std::exception_ptr error, const std::type_info& culprit) noexcept {
    try {
        troupe::logger()->error("{}: unhandled exception while handling {}, the actor stops: {}", name(),
                                type_name(culprit), describe(error));
    } catch (...) {}
    settle(ending::failed, std::move(error));
}

void cell_base::finish(ending how, std::exception_ptr error) noexcept {
    phase_ = phase::finished;
    // Refuse every later message, and tell the senders of queued ones that they were not handled.
    envelope* rest = mailbox_.seal();
    if (async_ && async_->stash_head != nullptr) {
        async_->stash_tail->next_ = rest;  // the held-back messages are the older ones
        rest = async_->stash_head;
        async_->stash_head = async_->stash_tail = nullptr;
    }
    drain_rejected(rest, true);
    // Leave the registry; its reference passes to run_job, which releases it last.
    system_->actors.remove(*this);
    try {
        if (how == ending::stopped) {
            object().on_stop();
        } else if (how == ending::failed) {
            object().on_failure(std::move(error));
        }
    } catch (...) {
        troupe::logger()->error("{}: {} threw: {}", name(), how == ending::stopped ? "on_stop" : "on_failure",
                                describe(std::current_exception()));
    }
    destroy_object();
    if (bound_) {
        futex_wake_all(bound_->size);  // senders blocked on a full mailbox now see it closed
    }
    if (dedicated_) {
        static_cast<dedicated_thread*>(executor_)->retire();
    }
    std::uintptr_t t = 0;
    // acq_rel: either no one waits yet (the tag tells later callers), or complete their state.
    if (!termination_.compare_exchange_strong(t, done_tag, std::memory_order_acq_rel, std::memory_order_acquire)) {
        reinterpret_cast<shared_state<void>*>(t)->try_set_value();
    }
}

void cell_base::drain_rejected(envelope* rest, bool log) noexcept {
    std::size_t tells = 0;
    std::exception_ptr why;
    while (rest != nullptr) {
        envelope* next = rest->next_;
        if (!rest->is_control()) {
            if (!why) {
                try {
                    why = std::make_exception_ptr(actor_dead(name() + " stopped before handling the message"));
                } catch (...) {
                    why = std::current_exception();
                }
            }
            if (!rest->reject(why)) {
                ++tells;
            }
        }
        rest->dispose();
        rest = next;
    }
    if (tells != 0 && log) {
        system_->dead_letter_count.fetch_add(tells, std::memory_order_relaxed);
        troupe::logger()->warn("{}: stopped with {} message(s) not handled; they went to dead letters", name(), tells);
    }
}

}  // namespace troupe::detail
