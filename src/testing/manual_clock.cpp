// The manual clock: a timer heap on a virtual time line, fired one timer at a time by advance().

#include <troupe/testing/manual_clock.hpp>

#include <troupe/core/detail/runtime_thread.hpp>
#include <troupe/core/errors.hpp>

#include <utility>

namespace troupe::testing {

manual_clock::manual_clock()
    : heap_(std::make_shared<troupe::detail::timer_heap>(
          "the test system is shut down: its clock takes no more timers")) {}

manual_clock::~manual_clock() {
    shutdown();
}

std::shared_ptr<troupe::detail::timer_state> manual_clock::add(duration delay, duration period,
                                                               std::function<void()> fn) {
    const duration due = now() + (delay > duration::zero() ? delay : duration::zero());
    bool earliest = false;  // nobody sleeps on this clock
    return heap_->add(due, period, std::move(fn), earliest);
}

void manual_clock::shutdown() {
    heap_->close();
}

std::size_t manual_clock::pending() const {
    return heap_->pending();
}

manual_clock::duration manual_clock::now() const {
    std::lock_guard lock(mutex_);
    return now_;
}

std::size_t manual_clock::advance(duration d) {
    if (d < duration::zero()) {
        throw error("manual_clock::advance: time only moves forward (a negative duration was given)");
    }
    duration target;
    {
        std::lock_guard lock(mutex_);
        if (firing_) {
            throw error("manual_clock::advance was called from a timer's function");
        }
        firing_ = true;
        target = now_ + d;
    }
    // As on the timer thread: a tell that finds a `block` mailbox full does not wait here.
    troupe::detail::runtime_thread_scope runtime;
    std::size_t fired = 0;
    while (auto due = heap_->take_due(target)) {
        {
            std::lock_guard lock(mutex_);
            now_ = due->due;  // a function that reads the clock sees its own deadline
        }
        heap_->fire(std::move(due));
        ++fired;
    }
    std::lock_guard lock(mutex_);
    now_ = target;
    firing_ = false;
    return fired;
}

std::optional<manual_clock::duration> manual_clock::next_deadline() const {
    return heap_->next_due();
}

}  // namespace troupe::testing
