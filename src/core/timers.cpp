#include <troupe/core/timers.hpp>

#include <troupe/core/detail/runtime_thread.hpp>
#include <troupe/core/log.hpp>

#include "timer_service.hpp"

#include <utility>

namespace troupe {

void timer::cancel() noexcept {
    if (!state_) {
        return;
    }
    // release: a firing thread that reads the flag under the heap's lock sees the cancel
    // (the lock orders the rest).
    state_->cancelled.store(true, std::memory_order_release);
    if (auto heap = state_->heap.lock()) {
        heap->cancel(*state_);
    }
}

bool timer::active() const noexcept {
    return state_ && !state_->cancelled.load(std::memory_order_acquire) &&
           !state_->fired.load(std::memory_order_acquire);
}

timer timers::after(duration delay, std::function<void()> fn) {
    return timer(source_->add(delay, duration::zero(), std::move(fn)));
}

timer timers::every(duration period, std::function<void()> fn) {
    if (period <= duration::zero()) {
        throw error("timers::every needs a positive period");
    }
    return timer(source_->add(period, period, std::move(fn)));
}

std::size_t timers::pending() const {
    return source_->pending();
}

namespace detail {

// ---- timer_heap ---------------------------------------------------------------------------------

timer_heap::~timer_heap() {
    close();
}

std::shared_ptr<timer_state> timer_heap::add(duration due, duration period, std::function<void()> fn, bool& earliest) {
    auto s = std::make_shared<timer_state>();
    s->fn = std::move(fn);
    s->period = period;
    s->heap = weak_from_this();
    s->due = due;
    std::lock_guard lock(mutex_);
    if (closed_) {
        throw error(closed_message_);
    }
    heap_.push_back(s);
    s->seq = seq_++;
    s->slot = heap_.size() - 1;
    sift_up(s->slot);
    earliest = s->slot == 0;
    return s;
}

void timer_heap::cancel(timer_state& s) noexcept {
    std::shared_ptr<timer_state> taken;
    {
        std::lock_guard lock(mutex_);
        if (s.slot == timer_state::running || s.slot == timer_state::retired) {
            // Running: fire() retires it when its function returns. Retired: whoever retired
            // it destroys its function.
            return;
        }
        taken = remove_at(s.slot);
    }
    taken->fn = nullptr;  // retired: nobody else touches it now, and the lock is released
}

std::optional<timer_heap::duration> timer_heap::next_due() const {
    std::lock_guard lock(mutex_);
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.front()->due;
}

std::shared_ptr<timer_state> timer_heap::take_due(duration now) {
    for (;;) {
        std::shared_ptr<timer_state> skipped;
        {
            std::lock_guard lock(mutex_);
            if (closed_ || heap_.empty() || heap_.front()->due > now) {
                return nullptr;
            }
            std::shared_ptr<timer_state> s = remove_at(0);
            // Cancelled but not out yet: timer::cancel() sets the flag before it takes the lock.
            if (!s->cancelled.load(std::memory_order_acquire)) {
                s->slot = timer_state::running;
                return s;
            }
            skipped = std::move(s);
        }
        skipped->fn = nullptr;
    }
}

void timer_heap::fire(std::shared_ptr<timer_state> s) noexcept {
    bool again = s->period != duration::zero();
    try {
        s->fn();
    } catch (const actor_dead& x) {
        again = false;  // a periodic timer ends with its target
        troupe::logger()->debug("timer stopped: its target is dead ({})", x.what());
    } catch (const std::exception& x) {
        troupe::logger()->error("a timer's function threw: {}", x.what());
    } catch (...) {
        troupe::logger()->error("a timer's function threw an unknown exception");
    }
    {
        std::lock_guard lock(mutex_);
        if (again && !closed_ && !s->cancelled.load(std::memory_order_acquire)) {
            s->due += s->period;  // from the deadline, not from now: a periodic timer does not drift
            s->seq = seq_++;
            try {
                heap_.push_back(s);
                s->slot = heap_.size() - 1;
                sift_up(s->slot);
                return;
            } catch (...) {  // out of memory: the timer ends
            }
        }
        s->slot = timer_state::retired;
        s->fired.store(true, std::memory_order_release);
    }
    s->fn = nullptr;
}

void timer_heap::close() noexcept {
    std::vector<std::shared_ptr<timer_state>> dropped;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        dropped.swap(heap_);
        for (auto& s : dropped) {
            s->slot = timer_state::retired;
            s->fired.store(true, std::memory_order_release);
        }
    }
    // The functions (and the refs they hold) die here, outside the lock, even if a
    // troupe::timer handle still holds the state.
    for (auto& s : dropped) {
        s->fn = nullptr;
    }
}

std::size_t timer_heap::pending() const {
    std::lock_guard lock(mutex_);
    return heap_.size();
}

bool timer_heap::earlier(std::size_t a, std::size_t b) const noexcept {
    const timer_state& x = *heap_[a];
    const timer_state& y = *heap_[b];
    return x.due != y.due ? x.due < y.due : x.seq < y.seq;
}

void timer_heap::swap_entries(std::size_t a, std::size_t b) noexcept {
    std::swap(heap_[a], heap_[b]);
    heap_[a]->slot = a;
    heap_[b]->slot = b;
}

void timer_heap::sift_up(std::size_t i) noexcept {
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (!earlier(i, parent)) {
            return;
        }
        swap_entries(i, parent);
        i = parent;
    }
}

void timer_heap::sift_down(std::size_t i) noexcept {
    const std::size_t n = heap_.size();
    for (;;) {
        const std::size_t left = 2 * i + 1;
        if (left >= n) {
            return;
        }
        std::size_t child = left;
        if (left + 1 < n && earlier(left + 1, left)) {
            child = left + 1;
        }
        if (!earlier(child, i)) {
            return;
        }
        swap_entries(i, child);
        i = child;
    }
}

std::shared_ptr<timer_state> timer_heap::remove_at(std::size_t i) noexcept {
    std::shared_ptr<timer_state> out = std::move(heap_[i]);
    const std::size_t last = heap_.size() - 1;
    if (i != last) {
        heap_[i] = std::move(heap_[last]);
        heap_[i]->slot = i;
    }
    heap_.pop_back();
    if (i < heap_.size()) {
        // The entry moved into the hole may belong above it or below it.
        if (i > 0 && earlier(i, (i - 1) / 2)) {
            sift_up(i);
        } else {
            sift_down(i);
        }
    }
    out->slot = timer_state::retired;
    return out;
}

// ---- timer_service ------------------------------------------------------------------------------

timer_service::timer_service()
    : heap_(std::make_shared<timer_heap>("the system is shut down: no more timers")), thread_([this] { loop(); }) {}

timer_service::~timer_service() {
    shutdown();
    if (thread_.joinable()) {
        // Shut down from a timer's function: the thread has left its loop by now, unless it is
        // the one destroying the system (then it cannot wait for itself).
        if (thread_.get_id() == std::this_thread::get_id()) {
            thread_.detach();
        } else {
            thread_.join();
        }
    }
}

std::shared_ptr<timer_state> timer_service::add(std::chrono::steady_clock::duration delay,
                                                std::chrono::steady_clock::duration period, std::function<void()> fn) {
    bool earliest = false;
    auto s = heap_->add(std::chrono::steady_clock::now().time_since_epoch() + delay, period, std::move(fn), earliest);
    if (earliest) {
        {
            std::lock_guard lock(mutex_);
            changed_ = true;
        }
        wake_.notify_one();
    }
    return s;
}

void timer_service::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
        thread_.join();
    }
    heap_->close();
}

std::size_t timer_service::pending() const {
    return heap_->pending();
}

void timer_service::loop() {
    // A tell from a timer that finds a `block` mailbox full is a dead letter, not a wait: one
    // busy actor must not hold up every other timer of the system.
    runtime_thread_scope runtime;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        changed_ = false;
        if (auto due = heap_->take_due(std::chrono::steady_clock::now().time_since_epoch())) {
            lock.unlock();
            heap_->fire(std::move(due));
            lock.lock();
            continue;
        }
        // Holding mutex_ from here to the wait: an add() of an earlier deadline made after
        // next_due() sets changed_ only once the wait has released it, and wakes it.
        const auto next = heap_->next_due();
        const auto woken = [this] { return changed_ || stopping_; };
        if (next) {
            wake_.wait_until(lock, std::chrono::steady_clock::time_point(*next), woken);
        } else {
            wake_.wait(lock, woken);
        }
    }
}

}  // namespace detail
}  // namespace troupe
