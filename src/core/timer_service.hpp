#pragma once
// The thread behind troupe::timers: a heap of deadlines and one condition variable.

#include <troupe/core/detail/timer_source.hpp>
#include <troupe/core/timers.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace troupe::detail {

/// The default timer source: one thread that sleeps until the next deadline.
class timer_service final : public timer_source {
public:
    timer_service();
    ~timer_service() override;

    std::shared_ptr<timer_state> add(std::chrono::steady_clock::duration delay,
                                     std::chrono::steady_clock::duration period, std::function<void()> fn) override;
    void shutdown() override;

private:
    struct entry {
        std::chrono::steady_clock::time_point due;
        std::uint64_t seq;
        std::shared_ptr<timer_state> state;
        bool operator>(const entry& o) const noexcept { return due != o.due ? due > o.due : seq > o.seq; }
    };
    void loop();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::priority_queue<entry, std::vector<entry>, std::greater<>> heap_;
    std::uint64_t seq_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace troupe::detail
