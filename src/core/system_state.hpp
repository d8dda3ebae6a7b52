#pragma once
// The private state behind troupe::system, shared with the cells.

#include <troupe/core/registry.hpp>
#include <troupe/core/scheduler.hpp>
#include <troupe/core/timers.hpp>

#include "dedicated_thread.hpp"
#include "service_registry.hpp"
#include "timer_service.hpp"

#include <atomic>
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
    std::atomic<bool> running{true};

    /// A new executor thread for a dedicated-thread actor.
    executor& new_dedicated_thread();
    /// Joins the threads of dedicated actors that have finished.
    void reap_dedicated_threads(bool all);

    /// Counts and logs a message nobody will handle.
    void dead_letter(const std::string& target, const std::type_info& message, const char* why) noexcept;

    /// The services of other layers. After the pool and the timers, so that it is destroyed
    /// before them: a service may use the timers or the workers until it is gone.
    service_registry services;

private:
    std::mutex dedicated_mutex_;
    std::list<std::unique_ptr<dedicated_thread>> dedicated_;
};

}  // namespace troupe::detail
