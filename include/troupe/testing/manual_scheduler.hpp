#pragma once
/// \file
/// manual_scheduler: an executor that only queues the actors that have work, and runs their
/// turns when a test says so, on the test's own thread. Nothing runs behind the test's back.

#include <troupe/core/scheduler.hpp>

#include <cstddef>
#include <limits>
#include <mutex>

namespace troupe::testing {

/// An executor for deterministic tests. schedule() and yield() only append the actor to a
/// FIFO queue (any thread); run_one() and run_until_idle() run turns on the calling thread,
/// in that order. Give it to a system through system_options::executor, or use test_system.
class manual_scheduler final : public troupe::detail::executor {
public:
    manual_scheduler() = default;
    /// Drops the actors still queued without running them (a system built on this scheduler
    /// must be shut down first; test_system does so).
    ~manual_scheduler();
    manual_scheduler(const manual_scheduler&) = delete;
    manual_scheduler& operator=(const manual_scheduler&) = delete;

    /// Queues `j` behind the actors already waiting. Any thread.
    void schedule(troupe::detail::job* j) noexcept override;
    /// Queues `j` again after its turn used up its batch. Any thread.
    void yield(troupe::detail::job* j) noexcept override;
    /// Always true: a turn is one batch, after which the actor goes behind the others, so that
    /// a busy actor never keeps the test's thread beyond its turn.
    bool others_waiting() const noexcept override { return true; }

    /// Runs one turn of the actor at the front of the queue. False if none was runnable.
    /// Throws troupe::error when called from inside an actor's turn.
    bool run_one();
    /// Runs turns until none is runnable, at most `limit` of them; returns how many ran.
    std::size_t run_until_idle(std::size_t limit = std::numeric_limits<std::size_t>::max());
    /// The number of actors waiting for a turn.
    std::size_t pending() const;
    /// The number of turns run so far.
    std::size_t turns() const noexcept { return turns_; }

private:
    troupe::detail::job* pop() noexcept;
    void push(troupe::detail::job* j) noexcept;

    mutable std::mutex mutex_;  // guards the queue: actors on other threads may schedule
    troupe::detail::job* head_ = nullptr;
    troupe::detail::job* tail_ = nullptr;
    std::size_t size_ = 0;
    std::size_t turns_ = 0;  // only the thread that runs turns touches it
};

}  // namespace troupe::testing
