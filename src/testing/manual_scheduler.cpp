// The manual scheduler: an intrusive FIFO of jobs behind a mutex, drained by the test thread.

#include <troupe/testing/manual_scheduler.hpp>

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/errors.hpp>

namespace troupe::testing {

manual_scheduler::~manual_scheduler() {
    // The jobs are cells owned by their system; nothing to free here, only to forget.
    std::lock_guard lock(mutex_);
    head_ = tail_ = nullptr;
    size_ = 0;
}

void manual_scheduler::schedule(troupe::detail::job* j) noexcept {
    push(j);
}

void manual_scheduler::yield(troupe::detail::job* j) noexcept {
    push(j);
}

void manual_scheduler::push(troupe::detail::job* j) noexcept {
    std::lock_guard lock(mutex_);
    j->next_job_ = nullptr;
    if (tail_ != nullptr) {
        tail_->next_job_ = j;
    } else {
        head_ = j;
    }
    tail_ = j;
    ++size_;
}

troupe::detail::job* manual_scheduler::pop() noexcept {
    std::lock_guard lock(mutex_);
    troupe::detail::job* j = head_;
    if (j != nullptr) {
        head_ = j->next_job_;
        if (head_ == nullptr) {
            tail_ = nullptr;
        }
        j->next_job_ = nullptr;
        --size_;
    }
    return j;
}

bool manual_scheduler::run_one() {
    if (troupe::detail::running_cell() != nullptr) {
        throw error(
            "manual_scheduler: run_one() was called from inside an actor's turn; drive the scheduler from "
            "the test, outside the actors");
    }
    troupe::detail::job* j = pop();
    if (j == nullptr) {
        return false;
    }
    ++turns_;
    // The lock is not held here: the turn schedules other actors (and perhaps itself again).
    j->run_job();
    return true;
}

std::size_t manual_scheduler::run_until_idle(std::size_t limit) {
    std::size_t n = 0;
    while (n < limit && run_one()) {
        ++n;
    }
    return n;
}

std::size_t manual_scheduler::pending() const {
    std::lock_guard lock(mutex_);
    return size_;
}

}  // namespace troupe::testing
