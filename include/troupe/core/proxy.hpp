#pragma once
/// \file
/// proxy: calls, attribute reads and writes on an actor's members, each a message to the
/// actor, answered by a future. ref<A> is the proxy of the actor itself; member(&A::field)
/// gives the proxy of a member object ("traversable attribute").

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/envelopes.hpp>
#include <troupe/core/future.hpp>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace troupe {

namespace detail {
/// The identity path: the actor itself.
struct self_path {
    template <class A>
    A& operator()(A& a) const noexcept {
        return a;
    }
};
/// A path one member further: `inner(a).*field`.
template <class Inner, class Field>
struct member_path {
    Inner inner;
    Field field;
    template <class A>
    decltype(auto) operator()(A& a) const noexcept {
        return (inner(a).*field);
    }
};
/// Tags that name proxy messages in logs and dead letters.
struct proxy_call {};
struct proxy_get {};
struct proxy_set {};

[[noreturn]] void throw_empty_ref();
/// Thrown by a proxy call through a ref to an actor that is not in this process.
[[noreturn]] void throw_not_local(const endpoint& target);
}  // namespace detail

/// Reaches the object `Path(actor)` of type T inside an actor of class A. Every operation is
/// a message to the actor, handled in order with its other messages. The functions travel as
/// C++ closures, so they reach only actors of this process: through a ref to an actor
/// elsewhere, every operation throws troupe::error.
template <class A, class T, class Path>
class proxy {
public:
    /// Calls `fn(args...)` on the object; a future of its result. `fn` is a member function
    /// pointer (`&calculator::add`) or a function taking the object first (for overloads and
    /// default arguments: `[](calculator& c) { return c.add(1); }`; capture nothing the actor
    /// must not share). Arguments are copied (or moved) into the message. An exception from
    /// `fn` fails the future; the actor goes on.
    template <class F, class... Args>
    auto call(F fn, Args&&... args) const {
        static_assert(std::is_invocable_v<F, T&, std::decay_t<Args>...>,
                      "troupe: call() needs a member function (or a function of the object) that can be "
                      "called with these arguments");
        using R = std::invoke_result_t<F, T&, std::decay_t<Args>...>;
        return send<std::decay_t<R>, detail::proxy_call>(bind(fn, std::forward<Args>(args)...));
    }
    /// Calls `fn(args...)` as call() does, without waiting for a result (tell semantics). An exception from
    /// `fn` is the actor's failure (on_failure, then it stops), as for any tell.
    template <class F, class... Args>
    void defer(F fn, Args&&... args) const {
        static_assert(std::is_invocable_v<F, T&, std::decay_t<Args>...>,
                      "troupe: defer() needs a member function (or a function of the object) that can be "
                      "called with these arguments");
        auto body = bind(fn, std::forward<Args>(args)...);
        auto run = [body = std::move(body)](A& a) mutable { (void)body(a); };
        cell().send_or_throw(new detail::call_envelope<A, void, decltype(run), detail::proxy_call>(std::move(run), {}));
    }
    /// A future of a copy of the data member `field`.
    template <class V, class C>
    requires(!std::is_function_v<V>) future<V> get(V C::*field)
    const {
        return send<V, detail::proxy_get>([path = path_, field](A& a) -> V { return path(a).*field; });
    }
    /// Sets the data member `field` to `value`; the future completes once it is set.
    template <class V, class C, class U>
    requires(!std::is_function_v<V>) future<void> set(V C::*field, U&& value)
    const {
        static_assert(std::is_assignable_v<V&, std::decay_t<U>>, "troupe: set() value does not fit that member");
        return send<void, detail::proxy_set>([path = path_, field, v = std::decay_t<U>(std::forward<U>(value))](
                                                 A& a) mutable { path(a).*field = std::move(v); });
    }
    /// The proxy of the member object `field` (Pykka's traversable attribute): its methods and
    /// fields are reached through it, at any depth.
    template <class V, class C>
    requires(!std::is_function_v<V>) proxy<A, V, detail::member_path<Path, V C::*>> member(V C::*field)
    const { return proxy<A, V, detail::member_path<Path, V C::*>>(target_, {path_, field}); }

    /// For the runtime: a proxy of `path` inside the actor `target`.
    proxy(detail::counted_ptr<detail::actor_endpoint> target, Path path)
        : target_(std::move(target)), path_(std::move(path)) {}
    proxy() = default;

protected:
    /// The actor's endpoint; throws troupe::actor_dead for an empty ref.
    detail::actor_endpoint& target() const {
        if (!target_) {
            detail::throw_empty_ref();
        }
        return *target_;
    }
    /// The actor's cell; throws for an empty ref or an actor that is not in this process.
    detail::cell_base& cell() const {
        detail::cell_base* c = target().local();
        if (c == nullptr) {
            detail::throw_not_local(*target_);
        }
        return *c;
    }
    /// Sends the envelope `make(reply state)` builds and returns the future of that reply; the
    /// actor is recorded as its producer (for deadlock checks). A refused send fails the future.
    template <class R, class Make>
    future<R> ask_with(Make make) const {
        detail::cell_base& target = cell();
        auto* state = detail::shared_state<R>::make();
        state->set_producer(&target);
        detail::state_ptr<detail::shared_state<R>> reply(state);
        auto result = detail::make_future(reply);
        target.send_or_reject(make(std::move(reply)));
        return result;
    }
    template <class R, class Tag, class F>
    future<R> send(F f) const {
        return ask_with<R>([&](detail::state_ptr<detail::shared_state<R>> reply) {
            return new detail::call_envelope<A, R, F, Tag>(std::move(f), std::move(reply));
        });
    }
    template <class F, class... Args>
    auto bind(F fn, Args&&... args) const {
        return [path = path_, fn,
                args = std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)](A& a) mutable -> decltype(auto) {
            return std::apply([&](auto&... xs) -> decltype(auto) { return std::invoke(fn, path(a), std::move(xs)...); },
                              args);
        };
    }

    detail::counted_ptr<detail::actor_endpoint> target_;
    Path path_{};
};

}  // namespace troupe
