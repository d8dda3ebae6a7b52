#pragma once
/// \file
/// actor_nursery: structured concurrency across processes. Inside the block, run_in_actor starts
/// a subprocess that runs one exposed function and ends (its result through the portal), and
/// start_actor a daemon that serves calls until it is cancelled. The block ends only once every
/// child process has ended and been reaped; the first error (a child's exception, a child that
/// died) cancels every sibling, and the errors are thrown together as a troupe::error_group.
///
///     co_await troupe::open_actor_nursery([&](troupe::actor_nursery& an) -> troupe::task<void> {
///         auto donny = an.run_in_actor("donny", &cellar::open_door, 3);
///         troupe::portal gretchen = an.start_actor("gretchen", {.enable = {"cellar"}});
///         std::string a = co_await donny.result();
///         co_await gretchen.cancel_actor();
///     });
///
/// From main (or any thread that is not an actor's), troupe::open_actor_nursery(sys, body)
/// runs the same block and blocks until it has ended.
///
/// A child is the same executable started again: its main must be troupe::run (run.hpp), which
/// recognises the bootstrap arguments, serves the parent and exits when cancelled.

#include <troupe/async/nursery.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/detail/call.hpp>
#include <troupe/remote/portal.hpp>
#include <troupe/remote/statespace.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

/// How to start one process actor.
struct process_options {
    /// The namespaces of exposed functions it serves (run_in_actor adds its function's).
    std::vector<std::string> enable{};
    /// Values it can read with troupe::statespace::current() (tractor's statespace).
    statespace state{};
    /// Its log level ("debug", "info", ...); empty: this process's.
    std::string log_level{};
};

/// How an actor_nursery ends its children.
struct actor_nursery_options {
    /// How long a cancelled child has to acknowledge and exit before SIGTERM.
    std::chrono::milliseconds cancel_timeout{500};
    /// How long after SIGTERM before SIGKILL.
    std::chrono::milliseconds terminate_timeout{1600};
};

namespace remote::detail {
/// Starts a child process actor of the system `sys`; its handshake goes on in the background.
std::shared_ptr<child> spawn_child(troupe::system& sys, std::string name, const process_options& options,
                                   const actor_nursery_options& timeouts);
/// The connection to a child.
std::shared_ptr<peer> peer_of(const child& c);
/// Watches a child of a nursery until it ends (a daemon) and tears it down: cancel, wait for
/// the acknowledgement, SIGTERM, SIGKILL, reap. Throws troupe::process_error if the child
/// ended without being asked to.
task<void> watch_daemon(std::shared_ptr<child> c);
/// Tears a child down (as above) and waits until it has been reaped, even if the nursery is
/// being cancelled.
task<void> tear_down(std::shared_ptr<child> c);
/// Asks the nursery's children to end (cancel_actor on each), for actor_nursery::cancel.
void cancel_children(const std::vector<std::shared_ptr<child>>& children) noexcept;
}  // namespace remote::detail

/// The children of an open_actor_nursery block. Use it only inside the block, from its actor.
class actor_nursery {
public:
    /// Starts a process actor that runs `fn(args...)` (an exposed function: plain or a
    /// coroutine) and then ends. Its result (or error) comes through result(); an error is also
    /// an error of the nursery, which then cancels the other children.
    template <class F, class... Args>
    requires std::is_function_v<F>
    auto run_in_actor(std::string name, F* fn, Args&&... args) {
        return run_in_actor(std::move(name), process_options{}, fn, std::forward<Args>(args)...);
    }
    /// As above, with options (its namespaces, statespace, log level).
    template <class F, class... Args>
    requires std::is_function_v<F>
    auto run_in_actor(std::string name, process_options options, F* fn, Args&&... args) {
        using traits = remote::detail::function_traits<F*>;
        using result = typename traits::result;
        static_assert(
            traits::kind == remote::detail::call_kind::function || traits::kind == remote::detail::call_kind::coroutine,
            "run_in_actor: the function must give one result (a plain function or a troupe::task); for a "
            "stream or a context, start_actor and use portal.open_stream or portal.open_context");
        const auto& entry = remote::detail::exposed_entry(reinterpret_cast<remote::detail::any_function>(fn));
        options.enable.emplace_back(entry.ns);
        portal p = start(std::move(name), options);
        future<result> main = p.run(fn, std::forward<Args>(args)...);
        nursery_.start(watch_main(children_.back(), main));
        return result_portal<result>(std::move(p), std::move(main));
    }
    /// Starts a daemon process actor that serves calls of the namespaces in `options.enable`
    /// until it is cancelled (portal::cancel_actor, actor_nursery::cancel, the nursery's
    /// cancellation). It ending on its own is an error of the nursery.
    portal start_actor(std::string name, process_options options = {}) {
        portal p = start(std::move(name), options);
        nursery_.start(remote::detail::watch_daemon(children_.back()));
        return p;
    }
    /// Cancels the nursery: every child is asked to end (with the escalation of the options),
    /// and the block's awaits end with troupe::cancelled.
    void cancel() noexcept {
        remote::detail::cancel_children(children_);
        nursery_.cancel();
    }

    /// For open_actor_nursery.
    actor_nursery(troupe::system& sys, nursery& n, actor_nursery_options options)
        : system_(sys), nursery_(n), options_(options) {}
    actor_nursery(const actor_nursery&) = delete;
    actor_nursery& operator=(const actor_nursery&) = delete;

private:
    portal start(std::string name, const process_options& options) {
        auto c = remote::detail::spawn_child(system_, std::move(name), options, options_);
        children_.push_back(c);
        return portal(remote::detail::peer_of(*c), c);
    }
    template <class R>
    static task<void> watch_main(std::shared_ptr<remote::detail::child> c, future<R> main) {
        std::exception_ptr failure;
        try {
            co_await main;
        } catch (const troupe::cancelled&) {
            // The nursery is being cancelled (or the call was): not an error of this child.
        } catch (...) {
            failure = std::current_exception();
        }
        co_await remote::detail::tear_down(std::move(c));
        if (failure) {
            std::rethrow_exception(failure);
        }
    }

    troupe::system& system_;
    nursery& nursery_;
    actor_nursery_options options_;
    std::vector<std::shared_ptr<remote::detail::child>> children_;
};

/// Opens an actor nursery inside an actor's coroutine handler, runs `body(actor_nursery&)` in
/// it and waits until the body and every child process have ended; then throws the errors
/// together (troupe::error_group), as open_nursery does.
template <class F>
task<void> open_actor_nursery(F body, actor_nursery_options options = {}) {
    troupe::detail::cell_base* cell = troupe::detail::running_cell();
    if (cell == nullptr) {
        throw error(
            "troupe::open_actor_nursery(body) is used inside an actor's coroutine handler; from main, "
            "use open_actor_nursery(sys, body)");
    }
    troupe::system& sys = cell->system();
    co_await open_nursery([&](nursery& n) -> task<void> {
        actor_nursery an(sys, n, options);
        co_await body(an);
    });
}

/// Opens an actor nursery from a thread that is not an actor's (main) and blocks until it has
/// ended: `body` runs as the coroutine handler of an actor of `sys` (see open_nursery(sys, body)).
template <class F>
void open_actor_nursery(troupe::system& sys, F body, actor_nursery_options options = {}) {
    open_nursery(sys, [&sys, body = std::move(body), options](nursery& n) mutable -> task<void> {
        actor_nursery an(sys, n, options);
        co_await body(an);
    });
}

}  // namespace troupe
