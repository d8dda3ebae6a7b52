#pragma once
// The private state behind troupe::system, shared with the cells.

#include <troupe/core/detail/endpoint.hpp>
#include <troupe/core/registry.hpp>
#include <troupe/core/scheduler.hpp>
#include <troupe/core/timers.hpp>

#include "dedicated_thread.hpp"
#include "service_registry.hpp"
#include "timer_service.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>

namespace troupe::detail {

class system_state {
public:
    system_state(troupe::system& owner, system_options options);

    troupe::system& owner;
    system_options options;
    std::unique_ptr<troupe::scheduler> pool;  // null when the options bring an executor
    executor* pooled;                         // where actors not on a dedicated thread run
    troupe::registry actors;
    std::unique_ptr<timer_service> timer_thread;  // null when the options bring a timer source
    timer_source* timer_src;
    troupe::timers timer_api;
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<std::uint64_t> dead_letter_count{0};
    std::atomic<std::uint64_t> dead_letters_reported{0};   // dead_letter_count at the last line
    std::atomic<std::int64_t> next_dead_letter_report{0};  // steady_clock ticks
    std::atomic<bool> running{true};

    /// A new executor thread for a dedicated-thread actor.
    executor& new_dedicated_thread();
    /// Joins the threads of dedicated actors that have finished.
    void reap_dedicated_threads(bool all);

    /// Counts `count` messages of type `message` for `target` that nobody will handle, because
    /// `why`. Logs at most one line per dead_letter_interval, summing up the ones in between:
    /// an overloaded system drops messages fast, and a log line per drop would slow it further.
    void dead_letter(const endpoint& target, const std::type_info& message, const char* why,
                     std::uint64_t count = 1) noexcept;
    /// Logs the dead letters that no line has reported yet (at shutdown).
    void report_dead_letters() noexcept;
    static constexpr std::chrono::seconds dead_letter_interval{1};

    /// The services of other layers. After the pool and the timers, so that it is destroyed
    /// before them: a service may use the timers or the workers until it is gone.
    service_registry services;

private:
    std::mutex dedicated_mutex_;
    std::list<std::unique_ptr<dedicated_thread>> dedicated_;
};

}  // namespace troupe::detail
