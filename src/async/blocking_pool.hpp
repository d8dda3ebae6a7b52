#pragma once
// The blocking pool of one system: threads apart from its workers, for run_blocking.

#include <troupe/async/detail/input_state.hpp>
#include <troupe/core/service.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace troupe::detail {

/// Threads for functions that block. Elastic: a thread is started when a job waits and none is
/// idle (up to blocking_pool_threads); a thread idle for `linger` ends. Its threads are not
/// runtime threads: they exist to wait, and a result for a full `block` mailbox waits for room
/// (holding one pool thread, not the system's I/O or its timers).
class blocking_pool final : public troupe::service {
public:
    explicit blocking_pool(troupe::system& sys);
    ~blocking_pool() override;

    /// Queues `job`. Throws troupe::error once the pool has shut down.
    void submit(std::unique_ptr<blocking_job> job);
    /// The system whose pool runs the current thread, or null on any other thread.
    static troupe::system* current() noexcept;

protected:
    /// Drops the jobs not started (their results are dropped, their futures broken) and waits
    /// for those running.
    void shutdown() override;

private:
    static constexpr std::chrono::seconds linger{2};

    /// With the lock held.
    void start_thread();
    void work();

    troupe::system& system_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<blocking_job>> queue_;
    std::unordered_map<std::thread::id, std::thread> threads_;  // running their loop
    std::vector<std::thread> retired_;                          // left their loop, not joined yet
    std::size_t idle_ = 0;                                      // threads waiting for a job
    bool stopped_ = false;
    std::thread caller_;  // the pool thread that shut the system down, joined by the destructor
};

}  // namespace troupe::detail
