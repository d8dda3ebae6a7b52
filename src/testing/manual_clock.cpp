// The manual clock: a heap of virtual deadlines, popped one at a time by advance().

#include <troupe/testing/manual_clock.hpp>

#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include <exception>
#include <utility>

namespace troupe::testing {

manual_clock::~manual_clock() {
    shutdown();
}

std::shared_ptr<troupe::detail::timer_state> manual_clock::add(duration delay, duration period,
                                                               std::function<void()> fn) {
    auto s = std::make_shared<troupe::detail::timer_state>();
    s->fn = std::move(fn);
    s->period = period;
    std::lock_guard lock(mutex_);
    if (stopped_) {
        throw error("the test system is shut down: its clock takes no more timers");
    }
    heap_.push({now_ + (delay > duration::zero() ? delay : duration::zero()), seq_++, s});
    return s;
}

void manual_clock::shutdown() {
    std::priority_queue<entry, std::vector<entry>, std::greater<>> dropped;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        std::swap(dropped, heap_);
    }
    // The timers' functions (and the refs they hold) die here, outside the lock, even if a
    // troupe::timer handle still holds the state.
    while (!dropped.empty()) {
        const auto& s = dropped.top().state;
        s->fn = nullptr;
        s->fired.store(true, std::memory_order_release);
        dropped.pop();
    }
}

manual_clock::duration manual_clock::now() const {
    std::lock_guard lock(mutex_);
    return now_;
}

void manual_clock::drop_cancelled() const {
    while (!heap_.empty() && heap_.top().state->cancelled.load(std::memory_order_acquire)) {
        heap_.top().state->fired.store(true, std::memory_order_release);
        heap_.pop();
    }
}

std::size_t manual_clock::advance(duration d) {
    if (d < duration::zero()) {
        throw error("manual_clock::advance: time only moves forward (a negative duration was given)");
    }
    std::unique_lock lock(mutex_);
    if (firing_) {
        throw error("manual_clock::advance was called from a timer's function");
    }
    const duration target = now_ + d;
    firing_ = true;
    std::size_t fired = 0;
    for (;;) {
        drop_cancelled();
        if (heap_.empty() || heap_.top().due > target || stopped_) {
            break;
        }
        entry e = heap_.top();
        heap_.pop();
        now_ = e.due;  // a function that reads the clock sees its own deadline
        lock.unlock();
        fire(std::move(e));
        ++fired;
        lock.lock();
    }
    now_ = target;
    firing_ = false;
    return fired;
}

void manual_clock::fire(entry e) {
    bool again = e.state->period != duration::zero();
    try {
        e.state->fn();
    } catch (const actor_dead& x) {
        again = false;  // as with the timer thread: a periodic timer ends with its target
        troupe::logger()->debug("timer stopped: its target is dead ({})", x.what());
    } catch (const std::exception& x) {
        troupe::logger()->error("a timer's function threw: {}", x.what());
    } catch (...) {
        troupe::logger()->error("a timer's function threw an unknown exception");
    }
    std::lock_guard lock(mutex_);
    if (again && !stopped_ && !e.state->cancelled.load(std::memory_order_acquire)) {
        e.due += e.state->period;
        e.seq = seq_++;
        heap_.push(std::move(e));
    } else {
        e.state->fired.store(true, std::memory_order_release);
    }
}

std::optional<manual_clock::duration> manual_clock::next_deadline() const {
    std::lock_guard lock(mutex_);
    drop_cancelled();
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.top().due;
}

std::size_t manual_clock::pending() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    // A copy of the heap is the only way to look at every entry; tests have few timers.
    auto copy = heap_;
    while (!copy.empty()) {
        n += copy.top().state->cancelled.load(std::memory_order_acquire) ? 0 : 1;
        copy.pop();
    }
    return n;
}

}  // namespace troupe::testing
