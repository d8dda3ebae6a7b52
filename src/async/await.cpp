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

void enter_await(const cell_base& waiter, const state_base& awaited) {
    add_wait_edge(waiter, awaited);
}

void leave_await(const cell_base& waiter, const state_base& awaited) noexcept {
    remove_wait_edge(waiter, awaited);
}

}  // namespace detail

void sleep_for::suspend(std::coroutine_handle<> h, detail::cancel_scope* scope) {
    detail::cell_base* cell = detail::running_cell();
    if (cell == nullptr) {
        throw error("troupe::sleep_for is awaited inside an actor's coroutine handler");
    }
    detail::resumer& r = slot_.arm(h, *cell, scope);
    try {
        cell->system().timers().after(d_, [ref = detail::resumer_ref(&r)] { ref.complete(); });
    } catch (...) {
        slot_.abandon();
        throw;
    }
}

}  // namespace troupe
