#pragma once
/// \file
/// portal: a handle on another process actor, to run its exposed functions.
///
///     troupe::portal p = ...;                                   // from an actor_nursery, or discovery
///     troupe::future<std::string> a = p.run(&cellar::open_door, 3);          // typed, by pointer
///     troupe::future<std::string> b = p.run<std::string>("cellar", "open_door", 3);  // by name
///     std::string answer = co_await a;                          // or a.get() outside an actor
///
/// A call's exception in the other process arrives as troupe::remote_actor_error; a call whose
/// process ends (or whose connection closes) before answering fails with troupe::actor_dead.

#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/remote/actor.hpp>
#include <troupe/remote/context.hpp>
#include <troupe/remote/detail/call.hpp>
#include <troupe/remote/detail/invoke.hpp>
#include <troupe/remote/errors.hpp>
#include <troupe/remote/stream.hpp>
#include <troupe/wire/codec.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace troupe {

namespace remote::detail {
class child;
/// The name an exposed function travels under ("cellar.open_door").
std::string target_name(std::string_view ns, std::string_view name);
/// The allow-list entry of `fn`; throws troupe::error if it is not exposed.
const exposed_function& exposed_entry(any_function fn);
}  // namespace remote::detail

/// A handle on a process actor: runs its exposed functions. Copies share the actor. Usable from
/// any thread; its futures are awaited inside actors with co_await, elsewhere with get().
class portal {
public:
    /// An empty portal; using it throws troupe::error.
    portal() = default;

    /// Runs the function exposed as `ns`/`name` there with `args`, whose result is an R.
    /// The arguments travel as their decayed types; the far side decodes them as its
    /// parameters (a mismatch is answered with an error).
    template <class R = void, class... Args>
    future<R> run(std::string_view ns, std::string_view name, Args&&... args) const {
        static_assert(remote::detail::result_crosses<R>, "portal.run<R>: R must be void or serialisable");
        using arguments = std::tuple<std::decay_t<Args>...>;
        static_assert(wire::serialisable<arguments>, "portal.run: every argument must be serialisable");
        return call<R>(remote::detail::target_name(ns, name), wire::encode(arguments(std::forward<Args>(args)...)));
    }

    /// Runs the exposed function `fn` there, typed: the arguments are checked against its
    /// parameters at compile time, and the future has its result type (a coroutine's co_return
    /// type). Throws troupe::error if `fn` is not exposed (TROUPE_EXPOSE) in this executable.
    template <class F, class... Args>
    requires std::is_function_v<F>
    auto run(F* fn, Args&&... args) const {
        using traits = remote::detail::function_traits<F*>;
        using result = typename traits::result;
        using parameters = typename traits::parameters;
        static_assert(traits::kind != remote::detail::call_kind::stream,
                      "portal.run: this function is a stream (troupe::generator): use portal.open_stream");
        static_assert(traits::kind != remote::detail::call_kind::context,
                      "portal.run: this function takes a troupe::stream_context&: use portal.open_context");
        static_assert(std::is_constructible_v<parameters, Args&&...>,
                      "portal.run: the arguments do not match the function's parameters");
        const auto& entry = remote::detail::exposed_entry(reinterpret_cast<remote::detail::any_function>(fn));
        return call<result>(remote::detail::target_name(entry.ns, entry.name),
                            wire::encode(parameters(std::forward<Args>(args)...)));
    }

    /// Starts the exposed generator `fn` there (a function returning troupe::generator<T>) and
    /// gives the stream of what it yields. At most default_stream_window items travel ahead of
    /// the consumer; the overloads below taking a troupe::stream_window first choose another.
    template <class F, class... Args>
    requires std::is_function_v<F>
    auto open_stream(F* fn, Args&&... args) const {
        return open_stream(stream_window{}, fn, std::forward<Args>(args)...);
    }
    /// As above, by name, for a generator of T.
    template <class T, class... Args>
    remote_stream<T> open_stream(std::string_view ns, std::string_view name, Args&&... args) const {
        return open_stream<T>(stream_window{}, ns, name, std::forward<Args>(args)...);
    }
    /// As above, with at most `window.items` items ahead of the consumer (at least 1; a
    /// troupe::error otherwise): the consumer buffers up to that many decoded items.
    template <class F, class... Args>
    requires std::is_function_v<F>
    auto open_stream(stream_window window, F* fn, Args&&... args) const {
        using traits = remote::detail::function_traits<F*>;
        using item = typename traits::result;
        using parameters = typename traits::parameters;
        static_assert(traits::kind == remote::detail::call_kind::stream,
                      "portal.open_stream: this function is not a stream (troupe::generator): use portal.run");
        static_assert(std::is_constructible_v<parameters, Args&&...>,
                      "portal.open_stream: the arguments do not match the function's parameters");
        const auto& entry = remote::detail::exposed_entry(reinterpret_cast<remote::detail::any_function>(fn));
        return stream_call<item>(remote::detail::target_name(entry.ns, entry.name),
                                 wire::encode(parameters(std::forward<Args>(args)...)), checked(window));
    }
    /// As above, by name, for a generator of T.
    template <class T, class... Args>
    remote_stream<T> open_stream(stream_window window, std::string_view ns, std::string_view name,
                                 Args&&... args) const {
        using arguments = std::tuple<std::decay_t<Args>...>;
        static_assert(wire::serialisable<T>, "portal.open_stream<T>: T must be serialisable");
        static_assert(wire::serialisable<arguments>, "portal.open_stream: every argument must be serialisable");
        return stream_call<T>(remote::detail::target_name(ns, name),
                              wire::encode(arguments(std::forward<Args>(args)...)), checked(window));
    }

    /// Opens a context with the exposed coroutine `fn` there (one taking a troupe::stream_context&
    /// first): the task completes once the callee has called ctx.started(), with the caller's
    /// side of the context (see context.hpp). Inside an actor.
    template <class F, class... Args>
    requires std::is_function_v<F>
    auto open_context(F* fn, Args&&... args) const {
        using traits = remote::detail::function_traits<F*>;
        using result = typename traits::result;
        using parameters = typename traits::parameters;
        static_assert(traits::kind == remote::detail::call_kind::context,
                      "portal.open_context: this function does not take a troupe::stream_context& first");
        static_assert(std::is_constructible_v<parameters, Args&&...>,
                      "portal.open_context: the arguments do not match the function's parameters");
        const auto& entry = remote::detail::exposed_entry(reinterpret_cast<remote::detail::any_function>(fn));
        auto sink = std::make_shared<remote::detail::context_sink<result>>(connection_ptr(), default_context_window);
        remote::detail::start_call(connection(), remote::detail::target_name(entry.ns, entry.name),
                                   wire::encode(parameters(std::forward<Args>(args)...)), sink, default_context_window);
        return wait_started(std::move(sink));
    }

    /// Spawns an actor of class A in that process actor, constructed from `args` (a first
    /// argument of type spawn_options is taken as the options: name, mailbox, dedicated
    /// thread), and gives a ref to it once it runs there. A must be exposed there
    /// (TROUPE_EXPOSE_ACTOR) and declare its `troupe::handles`. The future fails with
    /// troupe::remote_actor_error if it cannot be spawned there (not exposed, the arguments do
    /// not decode as its constructor's parameters, the constructor threw), troupe::actor_dead if
    /// the connection closes first. See troupe/remote/actor.hpp for what the ref does.
    template <class A, class... Args>
    future<ref<A>> spawn(Args&&... args) const {
        static_assert(std::is_base_of_v<actor, A>, "portal.spawn<A>: A must derive from troupe::actor");
        static_assert(troupe::detail::has_handles_list<A>::value,
                      "portal.spawn<A>: declare `using handles = troupe::handles<Message...>;` in A: an actor in "
                      "another process is reached through it");
        if constexpr (troupe::detail::first_is_spawn_options<Args...>()) {
            return spawn_with<A>(std::forward<Args>(args)...);
        } else {
            return spawn_with<A>(spawn_options{}, std::forward<Args>(args)...);
        }
    }

    /// Asks the actor to end: it cancels what it runs, acknowledges, and exits. For a child of
    /// an actor_nursery, a missing acknowledgement escalates to SIGTERM, then SIGKILL (the
    /// nursery's timeouts). The future completes once the actor has gone (for a child: its
    /// process has been reaped). Idempotent.
    future<void> cancel_actor() const;

    /// The process actor's full name ("donny#2@4121"); empty until its handshake is done.
    std::string name() const;
    /// True if this portal refers to an actor.
    bool valid() const noexcept { return static_cast<bool>(peer_); }

    /// For the runtime.
    portal(std::shared_ptr<remote::detail::peer> p, std::shared_ptr<remote::detail::child> c) noexcept
        : peer_(std::move(p)), child_(std::move(c)) {}
    /// For the runtime.
    remote::detail::peer& connection() const;

private:
    template <class A, class... Args>
    future<ref<A>> spawn_with(const spawn_options& options, Args&&... args) const {
        using arguments = std::tuple<std::decay_t<Args>...>;
        static_assert(wire::serialisable<arguments>,
                      "portal.spawn<A>: every constructor argument must be serialisable");
        static_assert(std::is_constructible_v<A, Args&&...>,
                      "portal.spawn<A>: A has no constructor taking these arguments");
        return remote::detail::spawn_remote_actor(connection_ptr(), typeid(A).name(), options,
                                                  wire::encode(arguments(std::forward<Args>(args)...)))
            .then_anywhere(
                [](troupe::detail::counted_ptr<troupe::detail::actor_endpoint> e) { return ref<A>(std::move(e)); });
    }
    template <class R>
    future<R> call(std::string target, std::vector<std::byte> args) const {
        auto sink = std::make_shared<remote::detail::value_sink<R>>(target);
        future<R> result = sink->get_future();
        remote::detail::start_call(connection(), std::move(target), std::move(args), std::move(sink));
        return result;
    }

    template <class R>
    static task<remote_context<R>> wait_started(std::shared_ptr<remote::detail::context_sink<R>> sink) {
        co_await sink->started_future();
        co_return remote_context<R>(std::move(sink));
    }
    static std::uint32_t checked(stream_window window) {
        if (window.items == 0) {
            throw error("portal.open_stream: a stream's window must be at least 1 item");
        }
        return window.items;
    }
    template <class T>
    remote_stream<T> stream_call(std::string target, std::vector<std::byte> args, std::uint32_t window) const {
        auto sink = std::make_shared<remote::detail::stream_sink<T>>(connection_ptr(), window);
        remote::detail::start_call(connection(), std::move(target), std::move(args), sink, window);
        return remote_stream<T>(std::move(sink));
    }
    std::shared_ptr<remote::detail::peer> connection_ptr() const {
        connection();  // throws if empty
        return peer_;
    }

    std::shared_ptr<remote::detail::peer> peer_;
    std::shared_ptr<remote::detail::child> child_;  // set for a child of a nursery
};

/// The portal of a process actor started with run_in_actor: also gives its function's result.
template <class R>
class result_portal : public portal {
public:
    result_portal() = default;
    /// The function's result (its error as a remote_actor_error). May be called many times.
    future<R> result() const { return result_; }

    /// For the runtime.
    result_portal(portal p, future<R> result) : portal(std::move(p)), result_(std::move(result)) {}

private:
    future<R> result_;
};

}  // namespace troupe
