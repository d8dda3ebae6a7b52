#include <troupe/core/timers.hpp>

#include <troupe/core/log.hpp>

#include "timer_service.hpp"

namespace troupe {

void timer::cancel() noexcept {
    if (state_) {
        state_->cancelled.store(true, std::memory_order_release);
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

namespace detail {

timer_service::timer_service() : thread_([this] { loop(); }) {}

timer_service::~timer_service() {
    shutdown();
}

std::shared_ptr<timer_state> timer_service::add(std::chrono::steady_clock::duration delay,
                                                std::chrono::steady_clock::duration period, std::function<void()> fn) {
    auto s = std::make_shared<timer_state>();
    s->fn = std::move(fn);
    s->period = period;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            throw error("the system is shut down: no more timers");
        }
        heap_.push({std::chrono::steady_clock::now() + delay, seq_++, s});
    }
    wake_.notify_one();
    return s;
}

void timer_service::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void timer_service::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (heap_.empty()) {
            wake_.wait(lock);
            continue;
        }
        auto due = heap_.top().due;
        if (std::chrono::steady_clock::now() < due) {
            wake_.wait_until(lock, due);
            continue;
        }
        entry e = heap_.top();
        heap_.pop();
        if (e.state->cancelled.load(std::memory_order_acquire)) {
            continue;
        }
        lock.unlock();
        bool again = e.state->period != std::chrono::steady_clock::duration::zero();
        try {
            e.state->fn();
        } catch (const actor_dead& x) {
            again = false;
            troupe::logger()->debug("timer stopped: its target is dead ({})", x.what());
        } catch (const std::exception& x) {
            troupe::logger()->error("a timer's function threw: {}", x.what());
        } catch (...) {
            troupe::logger()->error("a timer's function threw an unknown exception");
        }
        lock.lock();
        if (again && !e.state->cancelled.load(std::memory_order_acquire)) {
            e.due += e.state->period;
            e.seq = seq_++;
            heap_.push(std::move(e));
        } else {
            e.state->fired.store(true, std::memory_order_release);
        }
    }
}

}  // namespace detail
}  // namespace troupe
