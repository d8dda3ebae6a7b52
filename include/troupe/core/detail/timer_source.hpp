#pragma once
/// \file
/// timer_source: where a system's timers come from. The default is a thread that sleeps until
/// the next deadline; troupe::testing plugs in a manual clock.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace troupe::detail {

/// One scheduled timer, shared by the source and the user's troupe::timer handle.
struct timer_state {
    std::function<void()> fn;
    std::chrono::steady_clock::duration period{};  // zero for one-shot timers
    std::atomic<bool> cancelled{false};
    std::atomic<bool> fired{false};
};

/// Runs functions after delays. Implementations run `fn` on a thread of their own choosing,
/// never inside add().
class timer_source {
public:
    virtual ~timer_source() = default;
    /// Schedules `fn` after `delay`, then every `period` if it is not zero.
    virtual std::shared_ptr<timer_state> add(std::chrono::steady_clock::duration delay,
                                             std::chrono::steady_clock::duration period, std::function<void()> fn) = 0;
    /// Stops firing; pending timers are dropped. Idempotent.
    virtual void shutdown() = 0;
};

}  // namespace troupe::detail
