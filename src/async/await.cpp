// Awaiting inside actors: the wait-for checks of reentrancy::none, and sleep_for.

#include <troupe/async/await.hpp>

#include <troupe/core/system.hpp>

namespace troupe {
namespace detail {

void check_await(const cell_base& waiter, const cell_base* producer) {
    if (producer == &waiter) {
        throw deadlock(waiter.name() +
                       " would wait for ever: its coroutine awaits a reply only it can give, while its mailbox "
                       "waits for that coroutine (reentrancy::none)");
    }
}

void enter_await(const cell_base& waiter, const cell_base* producer) {
    add_wait_edge(waiter, producer);
}

void leave_await(const cell_base& waiter) noexcept {
    remove_wait_edge(waiter);
}

}  // namespace detail

sleep_for::~sleep_for() {
    if (r_ != nullptr) {
        r_->release();
    }
}

void sleep_for::await_suspend(std::coroutine_handle<> h) {
    detail::cell_base* cell = detail::running_cell();
    if (cell == nullptr) {
        throw error("troupe::sleep_for is awaited inside an actor's coroutine handler");
    }
    if (cell->cancelling()) {
        throw troupe::cancelled(cell->name() + " is stopping: the sleep was cancelled");
    }
    r_ = new detail::resumer(h, *cell);
    cell->add_waiter(*r_);
    try {
        cell->system().timers().after(d_, [r = detail::resumer_ref(r_)] { r.complete(); });
    } catch (...) {
        cell->remove_waiter(*r_);
        throw;
    }
}

void sleep_for::await_resume() const {
    if (r_ != nullptr && r_->was_cancelled()) {
        throw troupe::cancelled("the sleep was cancelled: the actor is stopping");
    }
}

}  // namespace troupe
