// An actor's life: start, stop, failure, and the end that waits for its coroutines.

#include <troupe/core/detail/cell.hpp>

#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include "cell_internals.hpp"
#include "system_state.hpp"

#include "dedicated_thread.hpp"

#include <algorithm>
#include <string>
#include <variant>

namespace troupe::detail {

void cell_base::start() {
    // The mailbox was made "scheduled", so whatever is sent from now on (through the registry,
    // say) only queues; the first turn runs on_start before any of it. Registered first, so
    // that on_start finds the actor in the registry, and so that a spawn that lost the race
    // with system::shutdown() fails here, before anything runs.
    system_->actors.add(*this);  // the registry's reference keeps the cell alive while it runs
    if (dedicated_) {
        try {
            executor_ = &system_->new_dedicated_thread();
        } catch (...) {
            system_->actors.remove(*this);
            system_->actors.ended();
            release();  // the registry's reference; the spawner still holds one
            throw;
        }
    }
    executor_->schedule(this);
}

cell_extras& cell_base::extras() {
    if (!async_) {
        auto made = std::make_unique<cell_extras>();
        auto lock = lock_queue();  // drop_oldest senders read async_ under this lock
        async_ = std::move(made);
    }
    return *async_;
}

bool cell_base::request_stop() {
    auto* pill = new control(*this, envelope::kind::stop, running_slot() == this);
    if (admitted(mailbox_.push_and_close(pill))) {
        closed_to_senders();  // senders blocked on a full mailbox learn at once
        return true;
    }
    pill->dispose();
    return false;
}

bool cell_base::kill() {
    // release: the consumer that sees the flag also sees everything before the kill.
    kill_requested_.store(true, std::memory_order_release);
    auto* k = new control(*this, envelope::kind::kill);
    if (!post_internal(k)) {
        k->dispose();
        return false;
    }
    mailbox_.close_to_senders();
    closed_to_senders();
    return true;
}

void cell_base::settle(ending how, std::exception_ptr error) noexcept {
    const bool waits = async_ && (async_->live_tasks != 0 || !async_->children.empty());
    if (!waits) {
        finish(how, std::move(error));
        return;
    }
    // Coroutines and children first: cancel the coroutines; kill the children, or stop them one
    // at a time, newest first (the next once the previous has ended); end once all have.
    if (!async_->settling) {
        async_->settling = true;
        async_->pending_how = static_cast<std::uint8_t>(how);
        async_->pending_error = std::move(error);
    } else if (how == ending::killed) {
        async_->pending_how = static_cast<std::uint8_t>(how);  // a kill overrides a gentler ending
    }
    mailbox_.close_to_senders();
    closed_to_senders();
    begin_cancelling();
    if (how == ending::killed) {
        for (auto& child : async_->children) {
            try {
                child->kill();
            } catch (...) {
                troupe::logger()->error("{}: could not kill its child {}", name(), child->name());
            }
        }
    } else {
        stop_youngest_child();
    }
}

void cell_base::stop_youngest_child() noexcept {
    if (async_->children.empty()) {
        return;
    }
    actor_endpoint& youngest = *async_->children.back();
    try {
        youngest.request_stop();
    } catch (...) {
        troupe::logger()->error("{}: could not stop its child {}", name(), youngest.name());
    }
}

void cell_base::try_finish_settled() noexcept {
    if (async_ && async_->settling && async_->live_tasks == 0 && async_->children.empty()) {
        finish(static_cast<ending>(async_->pending_how), std::move(async_->pending_error));
    }
}

void cell_base::do_start() noexcept {
    try {
        object().on_start();
        phase_ = phase::running;
    } catch (...) {
        troupe::logger()->error("{}: on_start threw, the actor stops: {}", name(), describe(std::current_exception()));
        phase_ = phase::running;  // started, if badly: the next turns must not run on_start again
        settle(ending::start_failed, std::current_exception());
    }
}

void cell_base::do_stop(bool by_itself) noexcept {
    settle(by_itself ? ending::normal : ending::stopped, nullptr);
}

void cell_base::do_kill() noexcept {
    settle(ending::killed, nullptr);
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
    end_ = how;
    if (error) {
        try {
            extras().final_error = error;  // for exit_reason
        } catch (...) {}
    }
    // Refuse every later message, and tell the senders of queued ones that they were not handled.
    envelope* rest = nullptr;
    {
        auto lock = lock_queue();
        rest = mailbox_.seal();
        if (async_ && async_->stash_head != nullptr) {
            async_->stash_tail->next_ = rest;  // the held-back messages are the older ones
            rest = async_->stash_head;
            async_->stash_head = async_->stash_tail = nullptr;
        }
    }
    closed_to_senders();
    drain_rejected(rest, true);
    // Leave the registry's lists (lookups no longer find the actor); it still counts as ending,
    // so that system::shutdown() waits for its on_stop. The registry's reference passes to
    // run_job, which releases it last.
    system_->actors.remove(*this);
    const bool stopped = how == ending::normal || how == ending::stopped;
    try {
        if (stopped) {
            object().on_stop();
        } else if (how == ending::failed) {
            object().on_failure(std::move(error));
        }
    } catch (...) {
        troupe::logger()->error("{}: {} threw: {}", name(), stopped ? "on_stop" : "on_failure",
                                describe(std::current_exception()));
    }
    destroy_object();
    if (dedicated_) {
        static_cast<dedicated_thread*>(executor_)->retire();
    }
    std::uintptr_t t = 0;
    // acq_rel: either no one waits yet (the tag tells later callers), or complete their state.
    if (!termination_.compare_exchange_strong(t, done_tag, std::memory_order_acq_rel, std::memory_order_acquire)) {
        reinterpret_cast<shared_state<void>*>(t)->try_set_value();
    }
    system_->actors.ended();  // the last touch of the system: shutdown() may return from here on
}

void cell_base::drain_rejected(envelope* rest, bool log) noexcept {
    std::size_t tells = 0;
    const std::type_info* first_told = nullptr;
    std::exception_ptr why;
    while (rest != nullptr) {
        envelope* next = rest->next_;
        release_slot(*rest);
        if (!rest->is_control()) {
            if (!why) {
                try {
                    why = std::make_exception_ptr(actor_dead(name() + " stopped before handling the message"));
                } catch (...) {
                    why = std::current_exception();
                }
            }
            if (!rest->reject(why)) {
                if (tells++ == 0) {
                    first_told = &rest->type();
                }
            }
        }
        rest->dispose();
        rest = next;
    }
    if (tells != 0 && log) {
        system_->dead_letter(*this, *first_told, "it stopped before handling them", tells);
    }
}

exit_reason cell_base::reason() const {
    exit_reason r;
    switch (end_) {
        case ending::normal:
            r.what = exit_reason::kind::normal;
            break;
        case ending::stopped:
            r.what = exit_reason::kind::stopped;
            break;
        case ending::killed:
            r.what = exit_reason::kind::killed;
            break;
        case ending::failed:
        case ending::start_failed:
            r.what = exit_reason::kind::failed;
            if (async_ && async_->final_error) {
                r.error = async_->final_error;
                try {
                    std::rethrow_exception(r.error);
                } catch (const std::exception& x) {
                    r.error_type = type_name(typeid(x));
                    r.message = x.what();
                } catch (...) {
                    r.error_type = "unknown";
                }
            }
            break;
    }
    return r;
}

namespace {
/// What a notice says about `c`, which has ended.
ended ended_of(actor_endpoint& c) {
    return ended{address(counted_ptr<endpoint>(&c)), c.id(), c.name(), c.reason()};
}
}  // namespace

void cell_base::check_may_adopt() const {
    if (phase_ == phase::finished || (async_ && async_->settling)) {
        throw error(name() +
                    " is ending: it cannot spawn a child now (in on_stop, on_failure, or while its children "
                    "stop); spawn it from the system, or before the actor stops");
    }
}

void cell_base::adopt(actor_endpoint& child) {
    extras().children.emplace_back(&child);
    child.termination().then_state([parent = counted_ptr<cell_base>(this), c = counted_ptr<actor_endpoint>(&child)](
                                       auto&) { parent->post_notice(child_stopped{ended_of(*c)}); });
}

void cell_base::place_child(actor_endpoint& child, std::size_t position) {
    auto& kids = extras().children;
    auto it = std::find_if(kids.begin(), kids.end(), [&](auto& c) { return c.get() == &child; });
    if (it == kids.end()) {
        throw error(child.name() + " is not a live child of " + name());
    }
    counted_ptr<actor_endpoint> moved = std::move(*it);
    kids.erase(it);
    kids.insert(kids.begin() + static_cast<std::ptrdiff_t>(std::min(position, kids.size())), std::move(moved));
}

void cell_base::monitor(actor_endpoint& target) {
    if (!handles_notice(0)) {
        throw error(name() + " monitors " + target.name() + " but has no handle(troupe::down) to be told");
    }
    target.termination().then_state([watcher = counted_ptr<cell_base>(this), t = counted_ptr<actor_endpoint>(&target)](
                                        auto&) { watcher->post_notice(down{ended_of(*t)}); });
}

void cell_base::link(actor_endpoint& other) {
    if (&other == this) {
        throw error(name() + " cannot link to itself");
    }
    // Either end may be an endpoint that is not a cell (an actor in another process): it is
    // told through post_notice, and tells through its termination and reason.
    auto tell_if_abnormal = [](actor_endpoint& from, actor_endpoint& to) {
        from.termination().then_state(
            [f = counted_ptr<actor_endpoint>(&from), t = counted_ptr<actor_endpoint>(&to)](auto&) {
                if (f->reason().abnormal()) {
                    t->post_notice(exit_signal{ended_of(*f)});
                }
            });
    };
    tell_if_abnormal(other, *this);
    tell_if_abnormal(*this, other);
}

bool cell_base::post_notice(notice n) noexcept {
    try {
        auto* e = new notice_envelope(std::move(n));
        if (post_internal(e)) {
            return true;
        }
        e->dispose();
    } catch (...) {}
    return false;
}

void cell_base::take_notice(notice& n) {
    if (auto* gone = std::get_if<child_stopped>(&n); gone != nullptr && async_) {
        auto& kids = async_->children;
        for (auto it = kids.begin(); it != kids.end(); ++it) {
            if ((*it)->id() == gone->id) {
                kids.erase(it);
                break;
            }
        }
    }
    const bool a_child_ended = std::holds_alternative<child_stopped>(n);
    // A coroutine handler may adopt the notice's envelope and end at once, freeing it: after
    // a dispatch that found a handler, `n` is not touched again.
    if (!dispatch_notice(n)) {
        if (auto* signal = std::get_if<exit_signal>(&n)) {
            throw linked_failure("linked actor " + signal->name + " ended: " + signal->reason.describe());
        }
    }
    if (async_ && async_->settling && a_child_ended &&
        async_->pending_how != static_cast<std::uint8_t>(ending::killed)) {
        stop_youngest_child();  // the next child, now that the previous one has ended
    }
    try_finish_settled();
}

void notice_envelope::run(actor&) {
    running_slot()->take_notice(notice_);
}

}  // namespace troupe::detail
