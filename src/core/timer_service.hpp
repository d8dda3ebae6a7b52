#pragma once
// The thread behind troupe::timers: a heap of deadlines and one condition variable.

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

struct timer_state {
    std::function<void()> fn;
    std::chrono::steady_clock::duration period{};  // zero for one-shot timers
    std::atomic<bool> cancelled{false};
    std::atomic<bool> fired{false};
};

class timer_service {
public:
    timer_service();
    ~timer_service();

    std::shared_ptr<timer_state> add(std::chrono::steady_clock::duration delay,
                                     std::chrono::steady_clock::duration period, std::function<void()> fn);
    /// Stops the thread; pending timers are dropped. Idempotent.
    void shutdown();

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
