#pragma once
/// \file
/// system: owns the scheduler, the timers, the registry and the services; spawns actors;
/// shutting it down stops every actor, newest first, then the services, the timers and the
/// workers.

#include <troupe/core/actor.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/registry.hpp>
#include <troupe/core/scheduler.hpp>
#include <troupe/core/service.hpp>
#include <troupe/core/spawn_options.hpp>
#include <troupe/core/timers.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace troupe {

/// Settings of a system.
struct system_options {
    scheduler_options scheduler{};  ///< worker count, batch size, spinning
    std::string name = "troupe";    ///< for logs
    /// Where pooled actors run instead of a worker pool (troupe::testing's manual scheduler);
    /// null for the pool. The system does not own it.
    detail::executor* executor = nullptr;
    /// Where timers come from instead of a timer thread (troupe::testing's manual clock); null
    /// for the thread. The system does not own it.
    detail::timer_source* timers = nullptr;
};

/// An actor system. Several may live in one process; each has its own workers and registry.
class system {
public:
    explicit system(system_options options = {});
    /// Shuts down (see shutdown()).
    ~system();
    system(const system&) = delete;
    system& operator=(const system&) = delete;

    /// Starts an actor of class A constructed from `args` (on this thread; an exception from
    /// the constructor propagates and nothing is started). A first argument of type
    /// spawn_options is taken as the options. on_start then runs on the actor's executor
    /// before any message.
    template <class A, class... Args>
    ref<A> spawn(Args&&... args) {
        static_assert(std::is_base_of_v<actor, A>, "troupe: spawn<A>: A must derive from troupe::actor");
        if constexpr (detail::first_is_spawn_options<Args...>()) {
            return spawn_with<A>(std::forward<Args>(args)...);
        } else {
            return spawn_with<A>(spawn_options{}, std::forward<Args>(args)...);
        }
    }

    /// Every live actor.
    troupe::registry& registry() noexcept;
    /// Delayed and periodic messages.
    troupe::timers& timers() noexcept;
    /// The worker pool. Throws troupe::error for a system built on another executor.
    troupe::scheduler& scheduler();
    /// How many messages went to dead letters so far (undeliverable or unhandled).
    std::uint64_t dead_letters() const noexcept;
    /// The name from the options.
    const std::string& name() const noexcept;
    /// The system's service of class S (derived from troupe::service), made on first use: from
    /// any thread, and by one of them only. Throws troupe::error for a service not made before
    /// shutdown() began shutting the services down.
    template <class S>
    S& service() {
        static_assert(std::is_base_of_v<troupe::service, S>,
                      "troupe: sys.service<S>(): S must derive from troupe::service");
        return static_cast<S&>(find_or_make_service(typeid(S), &make_service<S>));
    }

    /// Stops every actor (stop requests sent newest first; on_stop runs for each) and waits
    /// until each has ended; then shuts the services down (newest first) and joins the timer
    /// thread and the workers. Idempotent. Must not be called from inside an actor.
    void shutdown();
    /// True until shutdown() begins.
    bool running() const noexcept;

    /// For the runtime.
    detail::system_state& state() noexcept { return *state_; }

private:
    template <class A, class... Args>
    ref<A> spawn_with(const spawn_options& options, Args&&... args) {
        check_running();
        auto* c = new detail::cell<A>(*state_, options, std::forward<Args>(args)...);
        detail::counted_ptr<detail::cell_base> handle = detail::counted_ptr<detail::cell_base>::adopt(c);
        c->start();
        return ref<A>(std::move(handle));
    }
    void check_running() const;
    template <class S>
    static std::unique_ptr<troupe::service> make_service(system& sys) {
        if constexpr (std::is_constructible_v<S, system&>) {
            return std::make_unique<S>(sys);
        } else {
            return std::make_unique<S>();
        }
    }
    troupe::service& find_or_make_service(const std::type_info& type, detail::service_factory make);

    std::unique_ptr<detail::system_state> state_;
};

template <class A, class... Args>
ref<A> context::spawn(Args&&... args) const {
    cell_->check_may_adopt();
    ref<A> child = system().template spawn<A>(std::forward<Args>(args)...);
    cell_->adopt(*child.local_cell());
    return child;
}

template <class A>
void context::adopt(const ref<A>& child) const {
    cell_->check_may_adopt();
    cell_->adopt(detail::endpoint_of(child, "adopt"));
}

template <class A>
void context::place_child(const ref<A>& child, std::size_t position) const {
    cell_->place_child(detail::endpoint_of(child, "place_child"), position);
}

template <class A>
void context::monitor(const ref<A>& target) const {
    cell_->monitor(detail::endpoint_of(target, "monitor"));
}

template <class A>
void context::link(const ref<A>& other) const {
    cell_->link(detail::endpoint_of(other, "link"));
}

}  // namespace troupe
