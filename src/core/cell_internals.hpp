#pragma once
// Private to the cell: what its source files share.

#include <troupe/core/detail/cell.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <typeinfo>
#include <variant>
#include <vector>

namespace troupe::detail {

/// The cell whose turn runs on this thread (running_cell() reads it).
cell_base*& running_slot() noexcept;

/// "std::runtime_error: boom", for logs.
std::string describe(const std::exception_ptr& e);

/// The runtime's own messages: a stop (always last) and a kill.
class control final : public envelope {
public:
    control(cell_base& c, kind k, bool by_itself = false) noexcept : cell_(c), kind_(k), by_itself_(by_itself) {}

    void run(actor&) override {
        switch (kind_) {
            case kind::stop:
                cell_.do_stop(by_itself_);
                break;
            default:
                cell_.do_kill();
                break;
        }
    }
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(control); }
    kind what() const noexcept override { return kind_; }

private:
    cell_base& cell_;
    kind kind_;
    bool by_itself_;  // a stop the actor asked for itself: its exit is normal
};

/// A notice about another actor's end, on its way to this one.
class notice_envelope final : public envelope {
public:
    explicit notice_envelope(notice n) noexcept : notice_(std::move(n)) {}
    void run(actor& a) override;
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override {
        return std::visit([](auto& m) -> const std::type_info& { return typeid(m); }, notice_);
    }
    kind what() const noexcept override { return kind::notice; }

private:
    notice notice_;
};

struct cell_extras {
    // Coroutine handlers (troupe::async).
    envelope* stash_head = nullptr;  // messages held back while a handler is suspended (none)
    envelope* stash_tail = nullptr;
    std::uint32_t live_tasks = 0;  // coroutine handlers started and not yet ended
    std::uint32_t paused = 0;      // of those, suspended under reentrancy::none (0 or 1)
    waiter* waiters = nullptr;     // suspended awaits, cancelled when the actor stops or fails
    bool cancelling = false;

    // Children: spawned from this actor's handlers, stopped before it ends.
    std::vector<counted_ptr<actor_endpoint>> children;  // live ones, oldest first (cells, or actors elsewhere)

    // The ending, once decided: it waits for the live tasks and children.
    bool settling = false;
    std::uint8_t pending_how = 0;
    std::exception_ptr pending_error;
    std::exception_ptr final_error;  // the failure, kept for exit_reason

    envelope* take_stash() noexcept {
        envelope* e = stash_head;
        stash_head = e->next_;
        if (stash_head == nullptr) {
            stash_tail = nullptr;
        }
        return e;
    }
    /// Unlinks the oldest held-back envelope for which `pred` holds, or returns null.
    template <class Pred>
    envelope* unstash_first(Pred pred) noexcept {
        envelope* before = nullptr;
        for (envelope* e = stash_head; e != nullptr; before = e, e = e->next_) {
            if (pred(e)) {
                (before != nullptr ? before->next_ : stash_head) = e->next_;
                if (stash_tail == e) {
                    stash_tail = before;
                }
                e->next_ = nullptr;
                return e;
            }
        }
        return nullptr;
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
