#pragma once
// What the stream operators' tests share (operators.test.cpp, forwarding.test.cpp).

#include <troupe/core/future.hpp>

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace streams_test {

/// What a test collects from an agent, and a future that completes once it has `n` of them.
template <class T>
class collected {
public:
    explicit collected(std::size_t n) : n_(n) {}
    void add(T v) {
        bool done = false;
        {
            const std::lock_guard guard(lock_);
            values_.push_back(std::move(v));
            done = values_.size() == n_;
        }
        if (done) {
            done_.set_value();
        }
    }
    /// Waits for the n values and gives them (the first n: more may have come since).
    std::vector<T> get() {
        done_.get_future().get();
        const std::lock_guard guard(lock_);
        return {values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(n_)};
    }

private:
    std::size_t n_;
    std::mutex lock_;
    std::vector<T> values_;
    troupe::promise<void> done_;
};

}  // namespace streams_test
