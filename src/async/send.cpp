// Awaited sends: the sender's side of `co_await ref.send(m)`. The target's side (registering,
// handing slots to waiting senders, waking them when it closes) is in src/core/cell.cpp.

#include <troupe/async/send.hpp>

#include <troupe/core/errors.hpp>
#include <troupe/core/message.hpp>

#include <string>

namespace troupe::detail {

send_awaiter::~send_awaiter() {
    if (waiting_) {
        target_->remove_send_waiter(*this);  // the frame dies suspended: the target must forget it
    }
    if (message_ != nullptr) {
        message_->dispose();  // never queued: the message dies with the await
    }
}

bool send_awaiter::await_ready() {
    home_ = running_cell();
    if (home_ == nullptr) {
        throw error(
            "co_await ref.send(m) is awaited inside an actor's coroutine handler, which it can suspend; "
            "elsewhere use ref.tell(m)");
    }
    status_ = target_->try_send_or_wait(message_, nullptr);
    if (status_ == send_status::accepted) {
        message_ = nullptr;  // the target's now (it may be handled and gone already)
        return true;
    }
    if (status_ == send_status::dead) {
        return true;  // await_resume throws
    }
    if (target_.get() == home_ && home_->policy() == reentrancy::none) {
        throw deadlock(home_->name() +
                       " would wait for ever: its coroutine awaits room in its own full mailbox, while that mailbox "
                       "waits for the coroutine (reentrancy::none)");
    }
    return false;
}

bool send_awaiter::suspend(std::coroutine_handle<> h, cancel_scope* scope) {
    // The resumer exists before the registration: the target may claim us at once, on any thread.
    resumer_ = &slot_.arm(h, *home_, scope);
    status_ = target_->try_send_or_wait(message_, this);
    if (status_ == send_status::full) {
        waiting_ = true;  // the resumption is posted to our own mailbox: it runs after we suspend
        return true;
    }
    // Room, or the target's end, came since await_ready: nothing was registered with the target.
    slot_.abandon();
    if (status_ == send_status::accepted) {
        message_ = nullptr;
    }
    return false;
}

void send_awaiter::await_resume() {
    if (waiting_) {
        waiting_ = false;
        // Still registered means nobody claimed us: the cancellation did. Claimed or not, the
        // target is done with us once this returns, and outcome_ is final.
        target_->remove_send_waiter(*this);
        status_ = outcome_;
        if (status_ == send_status::accepted) {
            message_ = nullptr;
        }
    }
    slot_.disarm();  // troupe::cancelled if the cancellation came first (outcome_ is then `full`)
    if (status_ == send_status::dead) {
        throw actor_dead(target_->name() + " is not running: it did not take the " + type_name(message_->type()));
    }
}

bool send_awaiter::claim() noexcept {
    return resumer_->complete();
}

}  // namespace troupe::detail
