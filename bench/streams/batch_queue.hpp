#pragma once
// The stream floors' queue between two threads: a mutex and a condition variable, and a
// consumer that takes everything there at once. That is how an agent reads (it waits until a
// partition is readable, then polls all there is), without a broker, offsets or an actor.

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace bench_streams {

/// An unbounded queue of T for any number of producers and one consumer.
template <class T>
class batch_queue {
public:
    /// Appends `v`, waking the consumer if it waits.
    void push(T v) {
        bool wake = false;
        {
            const std::lock_guard guard(lock_);
            items_.push_back(std::move(v));
            wake = waiting_;
        }
        if (wake) {
            ready_.notify_one();
        }
    }
    /// Appends all of `vs` under one lock (a producer that batches), and empties it.
    void push_all(std::vector<T>& vs) {
        if (vs.empty()) {
            return;
        }
        bool wake = false;
        {
            const std::lock_guard guard(lock_);
            if (items_.empty()) {
                items_.swap(vs);
            } else {
                for (auto& v : vs) {
                    items_.push_back(std::move(v));
                }
            }
            wake = waiting_;
        }
        vs.clear();
        if (wake) {
            ready_.notify_one();
        }
    }
    /// Waits until there is something, then moves all there is into `out` (cleared first).
    void take_all(std::vector<T>& out) {
        out.clear();
        std::unique_lock guard(lock_);
        waiting_ = true;
        ready_.wait(guard, [this] { return !items_.empty(); });
        waiting_ = false;
        out.swap(items_);
    }

private:
    std::mutex lock_;
    std::condition_variable ready_;
    std::vector<T> items_;
    bool waiting_ = false;  // the consumer sleeps, or is about to (under lock_)
};

}  // namespace bench_streams
