#pragma once
/// \file
/// timer_source: where a system's timers come from. The default is a thread that sleeps until
/// the next deadline; troupe::testing plugs in a manual clock. Both keep their timers in a
/// timer_heap, from which a cancelled timer leaves at once, its function with it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace troupe::detail {

class timer_heap;

/// One scheduled timer, shared by its heap and the user's troupe::timer handle.
struct timer_state {
    /// Under the heap's lock, except while the function runs: then only the firing thread
    /// touches it (and cancel() leaves it to that thread).
    std::function<void()> fn;
    std::chrono::steady_clock::duration period{};  // zero for one-shot timers
    std::atomic<bool> cancelled{false};
    std::atomic<bool> fired{false};  // ended without being cancelled: fired once, or dropped

    /// Where it is queued; set once, before add() returns it. Weak: a handle may outlive the
    /// source.
    std::weak_ptr<timer_heap> heap;
    // The heap's bookkeeping, under its lock.
    std::chrono::steady_clock::duration due{};
    std::uint64_t seq = 0;       // breaks ties between equal deadlines: first added, first fired
    std::size_t slot = retired;  // its index in the heap, or one of the two values below
    static constexpr std::size_t running = static_cast<std::size_t>(-1);  // its function runs
    static constexpr std::size_t retired = static_cast<std::size_t>(-2);  // out for good
};

/// The deadlines of one timer source: a binary min-heap of timers (earliest deadline first,
/// then first added) in which each timer knows its index, so that cancel() removes it in
/// O(log n) and frees its function (and the refs it captured) before it returns. Deadlines are
/// durations on the source's own time line. Thread-safe.
class timer_heap : public std::enable_shared_from_this<timer_heap> {
public:
    using duration = std::chrono::steady_clock::duration;

    /// A heap whose add() throws troupe::error(`closed_message`) once closed.
    explicit timer_heap(const char* closed_message) noexcept : closed_message_(closed_message) {}
    /// Closes it (see close()).
    ~timer_heap();
    timer_heap(const timer_heap&) = delete;
    timer_heap& operator=(const timer_heap&) = delete;

    /// Queues `fn` at `due`, then every `period` if it is not zero. `earliest` tells whether it
    /// is now the first deadline (a sleeping thread must wake for it). Throws once closed.
    std::shared_ptr<timer_state> add(duration due, duration period, std::function<void()> fn, bool& earliest);
    /// Takes `s` out of the heap and destroys its function before returning; if the function
    /// is running, it is destroyed as soon as it returns. The caller set `s.cancelled` first.
    void cancel(timer_state& s) noexcept;
    /// The earliest deadline queued, if any.
    std::optional<duration> next_due() const;
    /// Takes out the earliest timer if its deadline is at or before `now` (null if none is, or
    /// once closed); it is running until fire() has run it.
    std::shared_ptr<timer_state> take_due(duration now);
    /// Runs a taken timer's function on this thread (logging what it throws), then queues it
    /// again at its deadline plus its period (periodic, not cancelled, not ended by a
    /// troupe::actor_dead, heap not closed) or retires it, destroying its function.
    void fire(std::shared_ptr<timer_state> s) noexcept;
    /// Drops every queued timer, destroying their functions before returning (a running one's
    /// when it returns); add() throws from now on. Idempotent.
    void close() noexcept;
    /// The number of timers queued: not cancelled and, for one-shot ones, not fired yet.
    std::size_t pending() const;

private:
    // With the lock held.
    bool earlier(std::size_t a, std::size_t b) const noexcept;
    void swap_entries(std::size_t a, std::size_t b) noexcept;
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    /// Takes out the entry at `i` and marks it retired. Its function is then the caller's to
    /// destroy, after releasing the lock (it may capture anything, a timer handle included).
    std::shared_ptr<timer_state> remove_at(std::size_t i) noexcept;

    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<timer_state>> heap_;
    std::uint64_t seq_ = 0;
    bool closed_ = false;
    const char* closed_message_;
};

/// Runs functions after delays. Implementations run `fn` on a thread of their own choosing,
/// never inside add(), as a runtime thread (detail::runtime_thread_scope): a tell from it that
/// finds a `block` mailbox full is a dead letter, never a wait.
class timer_source {
public:
    virtual ~timer_source() = default;
    /// Schedules `fn` after `delay`, then every `period` if it is not zero.
    virtual std::shared_ptr<timer_state> add(std::chrono::steady_clock::duration delay,
                                             std::chrono::steady_clock::duration period, std::function<void()> fn) = 0;
    /// Stops firing; pending timers are dropped. Idempotent.
    virtual void shutdown() = 0;
    /// The number of timers pending: not cancelled and, for one-shot ones, not fired yet.
    virtual std::size_t pending() const = 0;
};

}  // namespace troupe::detail
