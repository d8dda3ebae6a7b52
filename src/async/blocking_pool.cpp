// The blocking pool: a queue of jobs and an elastic set of threads, one pool per system.

#include "blocking_pool.hpp"

#include <troupe/async/input.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/system.hpp>

#include <chrono>
#include <utility>

namespace troupe::detail {

namespace {
thread_local troupe::system* pool_system = nullptr;
}  // namespace

blocking_pool::blocking_pool(troupe::system& sys) : system_(sys) {}

blocking_pool::~blocking_pool() {
    shutdown();
    if (caller_.joinable()) {
        // The thread whose blocking function shut the system down: it has left its loop by
        // now, unless it is the one destroying the system (then it cannot wait for itself).
        if (caller_.get_id() == std::this_thread::get_id()) {
            caller_.detach();
        } else {
            caller_.join();
        }
    }
}

troupe::system* blocking_pool::current() noexcept {
    return pool_system;
}

void blocking_pool::submit(std::unique_ptr<blocking_job> job) {
    std::vector<std::thread> finished;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) {
            throw error("troupe::run_blocking: system '" + system_.name() +
                        "' is shut down: its blocking pool runs no more calls");
        }
        queue_.push_back(std::move(job));
        if (queue_.size() > idle_ && threads_.size() < blocking_pool_threads) {
            start_thread();
        } else {
            wake_.notify_one();
        }
        finished.swap(retired_);
    }
    for (auto& t : finished) {
        t.join();  // it has left its loop: this waits only for it to return
    }
}

void blocking_pool::shutdown() {
    std::deque<std::unique_ptr<blocking_job>> dropped;
    std::unordered_map<std::thread::id, std::thread> running;
    std::vector<std::thread> finished;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        dropped.swap(queue_);
        running.swap(threads_);
        finished.swap(retired_);
        wake_.notify_all();
    }
    dropped.clear();  // jobs never run: their results are dropped, their futures broken
    const auto join = [this](std::thread& t) {
        if (t.get_id() == std::this_thread::get_id()) {
            caller_ = std::move(t);  // shut down from one of its blocking functions
        } else {
            t.join();  // a function still running is waited for
        }
    };
    for (auto& [id, t] : running) {
        join(t);
    }
    for (auto& t : finished) {
        join(t);
    }
}

void blocking_pool::start_thread() {
    try {
        std::thread t([this] { work(); });
        const auto id = t.get_id();
        threads_.emplace(id, std::move(t));
    } catch (...) {
        if (threads_.empty()) {
            queue_.pop_back();  // nobody would ever run it
            throw;
        }
        wake_.notify_one();  // the threads already there will get to it
    }
}

void blocking_pool::work() {
    pool_system = &system_;
    std::unique_lock lock(mutex_);
    for (;;) {
        if (!queue_.empty()) {
            std::unique_ptr<blocking_job> job = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            job->run();
            job.reset();  // the job's captures (refs, handlers) die outside the lock
            lock.lock();
            continue;
        }
        if (stopped_) {
            return;  // shutdown() joins it
        }
        ++idle_;
        const bool woken = wake_.wait_for(lock, linger, [this] { return !queue_.empty() || stopped_; });
        --idle_;
        if (!woken) {
            // Idle for too long: leave. The next submit (or shutdown) joins this thread.
            auto self = threads_.find(std::this_thread::get_id());
            if (self != threads_.end()) {
                retired_.push_back(std::move(self->second));
                threads_.erase(self);
            }
            return;
        }
    }
}

}  // namespace troupe::detail
