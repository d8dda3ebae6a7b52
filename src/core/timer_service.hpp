#pragma once
// The thread behind troupe::timers: a timer_heap on the steady clock and one condition variable.

#include <troupe/core/detail/timer_source.hpp>
#include <troupe/core/timers.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace troupe::detail {

/// The default timer source: one thread (a runtime thread) that sleeps until the next deadline.
class timer_service final : public timer_source {
public:
    timer_service();
    ~timer_service() override;

    std::shared_ptr<timer_state> add(std::chrono::steady_clock::duration delay,
                                     std::chrono::steady_clock::duration period, std::function<void()> fn) override;
    void shutdown() override;
    std::size_t pending() const override;

private:
    void loop();

    std::shared_ptr<timer_heap> heap_;
    // The thread's sleep. Lock order: mutex_, then the heap's lock (never the other way).
    std::mutex mutex_;
    std::condition_variable wake_;
    bool changed_ = false;  // a new earliest deadline since the thread last looked
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace troupe::detail
