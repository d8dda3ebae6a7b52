#pragma once
// rss_sampler: the resident set size of a few processes, sampled on a thread of its own every
// few milliseconds between its construction and stop(), to show whether memory stays flat.

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "process_floor.hpp"

namespace bench {

class rss_sampler {
public:
    /// What one process's RSS did, in KiB.
    struct series {
        std::int64_t start = 0;  ///< when the sampler was made
        std::int64_t peak = 0;   ///< the largest sample
        std::int64_t end = 0;    ///< at stop()
    };

    /// Takes the first sample of each of `pids` now, then samples them every `every`.
    rss_sampler(std::vector<pid_t> pids, std::chrono::milliseconds every) : pids_(std::move(pids)) {
        series_.resize(pids_.size());
        for (std::size_t i = 0; i < pids_.size(); ++i) {
            series_[i].start = series_[i].peak = process_floor::rss_kib_of(pids_[i]);
        }
        thread_ = std::thread([this, every] {
            while (!stopping_.load(std::memory_order_relaxed)) {
                std::this_thread::sleep_for(every);
                sample(false);
            }
        });
    }
    ~rss_sampler() { stop(); }
    rss_sampler(const rss_sampler&) = delete;
    rss_sampler& operator=(const rss_sampler&) = delete;

    /// Takes the last sample and stops. Idempotent.
    void stop() {
        if (thread_.joinable()) {
            // relaxed: join() orders the sampler's writes before what follows.
            stopping_.store(true, std::memory_order_relaxed);
            thread_.join();
            sample(true);
        }
    }
    /// The series of the i-th pid (after stop()).
    series series_of(std::size_t i) const { return series_.at(i); }

private:
    void sample(bool last) {
        for (std::size_t i = 0; i < pids_.size(); ++i) {
            const std::int64_t kib = process_floor::rss_kib_of(pids_[i]);
            series_[i].peak = std::max(series_[i].peak, kib);
            if (last) {
                series_[i].end = kib;
            }
        }
    }

    std::vector<pid_t> pids_;
    std::vector<series> series_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace bench
