#pragma once
/// \file
/// The scheduler: a pool of worker threads with work stealing that runs actors whose mailboxes
/// have messages. Idle workers spin briefly, then park until an event wakes them (no polling).

#include <cstdint>
#include <memory>

namespace troupe {

/// Settings of a system's worker pool.
struct scheduler_options {
    unsigned workers = 0;         ///< worker threads; 0 = one per hardware thread
    unsigned batch = 64;          ///< most messages an actor handles per turn before yielding
    unsigned spin_rounds = 2000;  ///< rounds an idle worker looks for work before parking
};

namespace detail {

/// A unit of work the scheduler runs: in practice an actor with messages.
class job {
public:
    /// Runs one turn. Must not throw.
    virtual void run_job() noexcept = 0;
    /// Intrusive link for the scheduler's queues.
    job* next_job_ = nullptr;

protected:
    job() = default;
    ~job() = default;
};

/// Where jobs run: the shared pool, or a thread of their own.
class executor {
public:
    /// Makes `j` runnable. Called once per idle-to-ready transition.
    virtual void schedule(job* j) noexcept = 0;
    /// Makes `j` runnable again after it used up its batch (behind other ready work).
    virtual void yield(job* j) noexcept = 0;
    /// True if other work waits for the thread that runs the current job; when false, a job
    /// that used up its batch may go on with another instead of yielding.
    virtual bool others_waiting() const noexcept { return true; }

protected:
    ~executor() = default;
};

/// Called by a thread that is about to block (on a future, a full mailbox): a pool worker
/// hands the work it holds privately to the other workers first.
void before_blocking() noexcept;

}  // namespace detail

/// The pool of workers behind a system.
class scheduler final : public detail::executor {
public:
    explicit scheduler(scheduler_options options = {});
    ~scheduler();
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    void schedule(detail::job* j) noexcept override;
    void yield(detail::job* j) noexcept override;
    bool others_waiting() const noexcept override;

    /// The number of worker threads.
    unsigned workers() const noexcept;
    /// The batch size from the options.
    unsigned batch() const noexcept;
    /// Stops and joins the workers; jobs still queued are not run. Idempotent.
    void shutdown();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace troupe
