#pragma once
// What the supervision examples share: a journal of what happened, in order, that actors write
// to from any thread and that main() reads and waits on (instead of sleeping).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <iostream>
#include <mutex>
#include <string>
#include <syncstream>
#include <utility>
#include <vector>

namespace example {

/// A thread-safe list of lines; each is printed as it is added.
class journal {
public:
    void add(std::string line) {
        std::osyncstream(std::cout) << "  " << line << '\n';
        {
            std::lock_guard lock(mutex_);
            lines_.push_back(std::move(line));
        }
        added_.notify_all();
    }
    /// The lines added from position `from` on.
    std::vector<std::string> since(std::size_t from) const {
        std::lock_guard lock(mutex_);
        return {lines_.begin() + static_cast<std::ptrdiff_t>(from), lines_.end()};
    }
    /// The number of lines so far.
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return lines_.size();
    }
    /// Waits until `line` has been added `times` times in all; false after five seconds.
    bool wait_for(const std::string& line, std::ptrdiff_t times = 1) const {
        std::unique_lock lock(mutex_);
        return added_.wait_for(lock, std::chrono::seconds(5),
                               [&] { return std::count(lines_.begin(), lines_.end(), line) >= times; });
    }

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable added_;
    std::vector<std::string> lines_;
};

}  // namespace example
