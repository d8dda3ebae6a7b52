#include <troupe/core/system.hpp>

#include <troupe/core/log.hpp>

#include "system_state.hpp"

#include <chrono>
#include <string>

namespace troupe {
namespace detail {

system_state::system_state(troupe::system& o, system_options opts)
    : owner(o),
      options(std::move(opts)),
      pool(options.executor ? nullptr : std::make_unique<troupe::scheduler>(options.scheduler)),
      pooled(options.executor ? options.executor : pool.get()),
      timer_thread(options.timers ? nullptr : std::make_unique<timer_service>()),
      timer_src(options.timers ? options.timers : timer_thread.get()),
      timer_api(*timer_src) {
    if (pool) {
        options.scheduler.workers = pool->workers();
        options.scheduler.batch = pool->batch();
    } else if (options.scheduler.batch == 0) {
        options.scheduler.batch = 1;
    }
}

executor& system_state::new_dedicated_thread() {
    reap_dedicated_threads(false);
    std::lock_guard lock(dedicated_mutex_);
    auto& t = dedicated_.emplace_back(std::make_unique<dedicated_thread>());
    return *t;
}

void system_state::reap_dedicated_threads(bool all) {
    std::list<std::unique_ptr<dedicated_thread>> done;
    {
        std::lock_guard lock(dedicated_mutex_);
        for (auto it = dedicated_.begin(); it != dedicated_.end();) {
            if (all || (*it)->finished()) {
                done.push_back(std::move(*it));
                it = dedicated_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& t : done) {
        t->join();
    }
}

void system_state::dead_letter(const endpoint& target, const std::type_info& message, const char* why,
                               std::uint64_t count) noexcept {
    // relaxed: a statistic; nothing else is ordered by it.
    const std::uint64_t total = dead_letter_count.fetch_add(count, std::memory_order_relaxed) + count;
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::int64_t due = next_dead_letter_report.load(std::memory_order_relaxed);
    // One thread per interval wins the right to write the line; the others only count.
    if (now < due ||
        !next_dead_letter_report.compare_exchange_strong(
            due, now + std::chrono::steady_clock::duration(dead_letter_interval).count(), std::memory_order_relaxed)) {
        return;
    }
    const std::uint64_t unreported = total - dead_letters_reported.exchange(total, std::memory_order_relaxed);
    try {
        if (unreported == 1) {
            troupe::logger()->warn("dead letter: {} did not take a {}: {}", target.name(), type_name(message), why);
        } else if (unreported == count) {
            troupe::logger()->warn("dead letters: {} did not take {} messages, the first a {}: {}", target.name(),
                                   count, type_name(message), why);
        } else {
            troupe::logger()->warn(
                "dead letters: {} since the last report ({} in all); the latest: {} did not take a {}: {}", unreported,
                total, target.name(), type_name(message), why);
        }
    } catch (...) {}
}

void system_state::report_dead_letters() noexcept {
    const std::uint64_t total = dead_letter_count.load(std::memory_order_relaxed);
    const std::uint64_t unreported = total - dead_letters_reported.exchange(total, std::memory_order_relaxed);
    if (unreported == 0) {
        return;
    }
    try {
        troupe::logger()->warn("dead letters: {} not reported yet ({} in all)", unreported, total);
    } catch (...) {}
}

}  // namespace detail

system::system(system_options options) : state_(std::make_unique<detail::system_state>(*this, std::move(options))) {}

system::~system() {
    shutdown();
}

troupe::registry& system::registry() noexcept {
    return state_->actors;
}
troupe::timers& system::timers() noexcept {
    return state_->timer_api;
}
troupe::scheduler& system::scheduler() {
    if (!state_->pool) {
        throw error("system '" + name() + "' runs on an executor of its own, not a worker pool");
    }
    return *state_->pool;
}
std::uint64_t system::dead_letters() const noexcept {
    return state_->dead_letter_count.load(std::memory_order_relaxed);
}
const std::string& system::name() const noexcept {
    return state_->options.name;
}
bool system::running() const noexcept {
    return state_->running.load(std::memory_order_acquire);
}

void system::check_running() const {
    if (!running()) {
        throw error("system '" + name() + "' is shut down: it starts no more actors");
    }
}

troupe::service& system::find_or_make_service(const std::type_info& type, detail::service_factory make) {
    return state_->services.find_or_make(*this, type, make);
}

// The order, and why:
// 1. Actors. The registry is closed (a spawn that raced with this fails instead of starting an
//    actor nobody stops), every stop is requested (newest first), and the registry is awaited
//    until each actor has ended for good: on_stop, its destructor and its termination's
//    continuations (an input task's clean-up) have run. The registry counts an actor until
//    then, though lookups stop finding it before its on_stop, which may still use a service.
// 2. Services, newest first. Nothing of an actor uses them any more; a service made later may
//    use one made earlier (it asked for it in its constructor), so it goes first. They may
//    still use the timers (a deadline on a flush) and the workers while shutting down.
// 3. The timers: pending ones are dropped; no actor is left to receive them.
// 4. The workers, then the dedicated threads: nothing is left to run on them. They go last
//    because the last turns of the actors (and whatever continuations those ran) were theirs.
void system::shutdown() {
    if (detail::running_cell() != nullptr) {
        throw error(
            "system::shutdown() was called from inside an actor, where it would wait for itself; "
            "call it from outside the system");
    }
    if (state_->running.exchange(false, std::memory_order_acq_rel)) {
        auto& actors = state_->actors;
        actors.close();  // a spawn already past check_running() fails to register
        actors.request_stop_all();
        actors.wait_until_empty();
    }
    state_->services.shutdown();
    state_->report_dead_letters();
    state_->timer_src->shutdown();
    if (state_->pool) {
        state_->pool->shutdown();
    }
    state_->reap_dedicated_threads(true);
}

}  // namespace troupe
