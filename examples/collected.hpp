#pragma once
// What the stream examples use to gather what their agents see: values added from any thread,
// and get(), which waits until the expected number has come; by_topic groups them by topic.

#include <troupe/core/future.hpp>

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace example {

template <class T>
class collected {
public:
    explicit collected(std::size_t expected) : expected_(expected) {}
    void add(T value) {
        const std::lock_guard guard(lock_);
        got_.push_back(std::move(value));
        if (got_.size() == expected_) {
            done_.set_value();
        }
    }
    /// Waits for the expected number of values and gives them (the first ones, in order).
    std::vector<T> get() {
        done_.get_future().get();
        const std::lock_guard guard(lock_);
        return {got_.begin(), got_.begin() + static_cast<std::ptrdiff_t>(expected_)};
    }

private:
    std::size_t expected_;
    std::mutex lock_;
    std::vector<T> got_;
    troupe::promise<void> done_;
};

/// The same, grouped by the topic each value came from.
template <class V>
class by_topic {
public:
    explicit by_topic(std::size_t expected) : left_(expected) {}
    void add(const std::string& topic, V value) {
        const std::lock_guard guard(lock_);
        values_[topic].push_back(std::move(value));
        if (--left_ == 0) {
            done_.set_value();
        }
    }
    std::map<std::string, std::vector<V>> get() {
        done_.get_future().get();
        const std::lock_guard guard(lock_);
        return values_;
    }

private:
    std::mutex lock_;
    std::size_t left_;
    std::map<std::string, std::vector<V>> values_;
    troupe::promise<void> done_;
};

}  // namespace example
