#pragma once
// An executor with one thread of its own, for an actor whose handlers may block.

#include <troupe/core/detail/futex.hpp>
#include <troupe/core/scheduler.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

namespace troupe::detail {

class dedicated_thread final : public executor {
public:
    dedicated_thread() : thread_([this] { loop(); }) {}
    ~dedicated_thread() { join(); }

    void schedule(job* j) noexcept override { signal(j); }
    void yield(job* j) noexcept override { signal(j); }

    /// Called by the actor's last turn: the thread ends once that turn returns.
    void retire() noexcept { retired_ = true; }
    /// True once the thread has left its loop.
    bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
    void join() {
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    void signal(job* j) noexcept {
        job_ = j;  // always the same job; written before the release below
        // release: the job pointer and the messages happen before the thread runs it.
        if (ready_.exchange(1, std::memory_order_release) == 0) {
            futex_wake(ready_, 1);
        }
    }
    void loop() noexcept {
        while (!retired_) {
            // acquire: pairs with signal()'s release.
            while (ready_.exchange(0, std::memory_order_acquire) == 0) {
                futex_wait(ready_, 0);
            }
            job_.load(std::memory_order_relaxed)->run_job();
        }
        finished_.store(true, std::memory_order_release);
    }

    std::atomic<std::uint32_t> ready_{0};
    std::atomic<job*> job_{nullptr};
    bool retired_ = false;  // only touched by the thread itself (from inside run_job)
    std::atomic<bool> finished_{false};
    std::thread thread_;
};

}  // namespace troupe::detail
