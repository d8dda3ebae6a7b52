#pragma once
// Private to the cell: what its source files share.

#include <troupe/core/detail/cell.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <typeinfo>

namespace troupe::detail {

/// The cell whose turn runs on this thread (running_cell() reads it).
cell_base*& running_slot() noexcept;

/// "std::runtime_error: boom", for logs.
std::string describe(const std::exception_ptr& e);

/// The runtime's own messages: start (always first) and stop (always last).
class control final : public envelope {
public:
    control(cell_base& c, kind k) noexcept : cell_(c), kind_(k) {}

    void run(actor&) override {
        if (kind_ == kind::start) {
            cell_.do_start();
        } else {
            cell_.do_stop();
        }
    }
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(control); }
    kind what() const noexcept override { return kind_; }

private:
    cell_base& cell_;
    kind kind_;
};

struct async_state {
    envelope* stash_head = nullptr;  // messages held back while a handler is suspended (none)
    envelope* stash_tail = nullptr;
    std::uint32_t live_tasks = 0;  // coroutine handlers started and not yet ended
    std::uint32_t paused = 0;      // of those, suspended under reentrancy::none (0 or 1)
    waiter* waiters = nullptr;     // suspended awaits, cancelled when the actor stops or fails
    bool cancelling = false;
    bool settling = false;  // an ending (stop or failure) waits for the live tasks
    std::uint8_t pending_how = 0;
    std::exception_ptr pending_error;

    envelope* take_stash() noexcept {
        envelope* e = stash_head;
        stash_head = e->next_;
        if (stash_head == nullptr) {
            stash_tail = nullptr;
        }
        return e;
    }
    void stash(envelope* e) noexcept {
        e->next_ = nullptr;
        if (stash_tail != nullptr) {
            stash_tail->next_ = e;
        } else {
            stash_head = e;
        }
        stash_tail = e;
    }
};

}  // namespace troupe::detail
