#pragma once
/// \file
/// Actors inside other process actors: TROUPE_EXPOSE_ACTOR allows a class to be spawned from
/// another process, and portal.spawn<A>() gives a ref<A> to one spawned there. The ref works
/// like a local one: tell and ask with the same compile-time message checks, stop, kill,
/// exited, monitors and links; messages and replies cross as bytes through troupe::codec.
///
///     // In the executable (every process actor of it runs the same code):
///     struct counter : troupe::actor {
///         using handles = troupe::handles<add, total>;
///         explicit counter(int start) : n(start) {}
///         void handle(add a) { n += a.n; }
///         int handle(total) { return n; }
///         int n;
///     };
///     TROUPE_EXPOSE_ACTOR(counter, int);          // at namespace scope: the constructor's parameters
///
///     // In a parent:
///     troupe::ref<counter> c = co_await portal.spawn<counter>(10);
///     c.tell(add{5});
///     int n = co_await c.ask(total{});            // 15
///
/// An actor spawned this way belongs to the connection it was spawned over: when that closes
/// (its spawner's process ends), it is stopped. When its process ends first, the ref's actor
/// ends with a failure (troupe::actor_dead, "the connection ... closed"): asks in flight fail
/// with troupe::actor_dead, monitors get their down, links their exit_signal; nothing hangs.

#include <troupe/core/actor.hpp>
#include <troupe/core/codec.hpp>
#include <troupe/core/detail/endpoint.hpp>
#include <troupe/core/detail/shared_state.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/spawn_options.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/wire/codec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace troupe::remote::detail {

class peer;

/// Where the reply to one ask from another process goes: the dialog the asker opened.
struct reply_route {
    std::weak_ptr<peer> to;
    std::uint64_t dialog = 0;
};
/// Ends the reply dialog with the encoded reply.
void send_reply(const reply_route& route, std::vector<std::byte> value);
/// Ends the reply dialog with the error.
void send_failure(const reply_route& route, const std::exception_ptr& error);

/// One message type an exposed actor class takes from another process.
struct exposed_message {
    /// Its name on the wire (the type's mangled name: the same in every build of the program).
    const char* type;
    /// Decodes `bytes` as the message and tells it to `target`. Throws what decoding or the
    /// send throws.
    void (*tell)(troupe::detail::actor_endpoint& target, std::span<const std::byte> bytes);
    /// Decodes `bytes` as the message and asks it of `target`; the reply (or the error) goes to
    /// `route` once there. Throws what decoding throws.
    void (*ask)(troupe::detail::actor_endpoint& target, std::span<const std::byte> bytes, reply_route route);
};

/// An actor class that other processes may spawn here (TROUPE_EXPOSE_ACTOR).
struct exposed_actor {
    /// Its name on the wire (the class's mangled name).
    const char* type;
    /// Its name for people ("counter").
    const char* name;
    /// Spawns one in `sys` with `options`, its constructor's arguments decoded from `args`.
    troupe::detail::counted_ptr<troupe::detail::actor_endpoint> (*spawn)(system& sys, spawn_options options,
                                                                         std::span<const std::byte> args);
    /// The messages it takes from elsewhere: those of its handles list that have a codec and
    /// whose reply has one too.
    const exposed_message* messages;
    std::size_t message_count;
};

/// Adds `a` to the process's exposed actor classes; throws troupe::error for a class exposed
/// twice with the same parameters. (Exposed with other parameters, it is another constructor.)
void expose_actor(const exposed_actor& a);
/// The exposures of the class whose wire name is `type`, in the order they were made.
std::vector<const exposed_actor*> find_exposed_actors(std::string_view type);

template <class A, class M>
void tell_exposed(troupe::detail::actor_endpoint& target, std::span<const std::byte> bytes) {
    message box(codec<M>::decode(bytes));
    target.deliver({box, nullptr, nullptr, nullptr, nullptr});
}

template <class A, class M>
void ask_exposed(troupe::detail::actor_endpoint& target, std::span<const std::byte> bytes, reply_route route) {
    using R = troupe::detail::reply_t<A, M>;
    message box(codec<M>::decode(bytes));
    troupe::detail::state_ptr<troupe::detail::shared_state<R>> reply(troupe::detail::shared_state<R>::make());
    target.deliver({box, reply.get(), &typeid(R), nullptr, nullptr});
    make_future(reply).then_state([route = std::move(route)](troupe::detail::shared_state<R>& s) {
        if (s.has_error()) {
            send_failure(route, s.error());
            return;
        }
        std::vector<std::byte> value;
        if constexpr (!std::is_void_v<R>) {
            try {
                codec<R>::encode(s.value(), value);
            } catch (...) {
                send_failure(route, std::current_exception());
                return;
            }
        }
        send_reply(route, std::move(value));
    });
}

/// True if a message M can reach an A from another process: M and its reply have codecs.
template <class A, class M>
constexpr bool crosses() {
    using R = troupe::detail::reply_t<A, M>;
    return encodable<M> && (std::is_void_v<R> || encodable<R>);
}

template <class A, class... Ms>
struct message_table {
    static constexpr std::size_t count = (std::size_t{0} + ... + (crosses<A, Ms>() ? 1 : 0));
    static const exposed_message* entries() {
        static const auto table = [] {
            std::array<exposed_message, count + 1> t{};  // +1: never a zero-length array
            std::size_t i = 0;
            auto add = [&]<class M>(std::type_identity<M>) {
                if constexpr (crosses<A, M>()) {
                    t[i++] = exposed_message{typeid(M).name(), &tell_exposed<A, M>, &ask_exposed<A, M>};
                }
            };
            (add(std::type_identity<Ms>{}), ...);
            return t;
        }();
        return table.data();
    }
};

template <class A, class... Ms>
exposed_actor make_exposed_actor(handles<Ms...>, const char* name,
                                 troupe::detail::counted_ptr<troupe::detail::actor_endpoint> (*spawn)(
                                     system&, spawn_options, std::span<const std::byte>)) {
    using table = message_table<A, Ms...>;
    return exposed_actor{typeid(A).name(), name, spawn, table::entries(), table::count};
}

template <class A, class... Params>
troupe::detail::counted_ptr<troupe::detail::actor_endpoint> spawn_exposed(system& sys, spawn_options options,
                                                                          std::span<const std::byte> args) {
    auto params = wire::decode<std::tuple<std::decay_t<Params>...>>(args);
    ref<A> r = std::apply([&](auto&... p) { return sys.spawn<A>(std::move(options), std::move(p)...); }, params);
    return r.endpoint_handle();
}

/// The registration TROUPE_EXPOSE_ACTOR makes.
template <class A, class... Params>
struct actor_exposure {
    static_assert(std::is_base_of_v<actor, A>, "TROUPE_EXPOSE_ACTOR: the class must derive from troupe::actor");
    static_assert(troupe::detail::has_handles_list<A>::value,
                  "TROUPE_EXPOSE_ACTOR: declare `using handles = troupe::handles<Message...>;` in the class: "
                  "it lists the messages that may reach it from another process");
    static_assert(std::is_constructible_v<A, Params...>,
                  "TROUPE_EXPOSE_ACTOR: the class has no constructor taking these parameters");
    static_assert(wire::serialisable<std::tuple<std::decay_t<Params>...>>,
                  "TROUPE_EXPOSE_ACTOR: every constructor parameter must be serialisable");

    explicit actor_exposure(const char* name)
        : entry(make_exposed_actor<A>(typename A::handles{}, name, &spawn_exposed<A, Params...>)) {
        expose_actor(entry);
    }
    exposed_actor entry;
};

class child;

/// An actor whose spawn was just sent: its endpoint (null if the connection had closed), and a
/// future that completes once it runs there (or fails with why it could not be spawned; the
/// endpoint then ends with that failure).
struct spawned_remote {
    troupe::detail::counted_ptr<troupe::detail::actor_endpoint> actor;
    future<void> started;
};
/// Sends the spawn of an actor of the class named `type` to the other end of `to`. With an
/// `owner`, that process was started for this actor alone: it is ended when the actor ends.
spawned_remote spawn_remote(const std::shared_ptr<peer>& to, std::string type, const spawn_options& options,
                            std::vector<std::byte> args, std::shared_ptr<child> owner);

/// Spawns an actor of the class named `type` at the other end of `to`; the future completes
/// with its endpoint once it runs there, or fails with why it could not be spawned.
future<troupe::detail::counted_ptr<troupe::detail::actor_endpoint>> spawn_remote_actor(const std::shared_ptr<peer>& to,
                                                                                       std::string type,
                                                                                       const spawn_options& options,
                                                                                       std::vector<std::byte> args);

}  // namespace troupe::remote::detail

/// Allows other process actors to spawn the actor class `A` here (portal.spawn<A>), constructed
/// from the listed parameter types (none: its default constructor). Expose a class once per
/// constructor that others may use: the arguments of a spawn pick the first whose parameters
/// they decode as. The messages that may reach
/// it from elsewhere are those of its `troupe::handles` list with a troupe::codec (and whose
/// reply has one). At namespace scope, once per class.
#define TROUPE_EXPOSE_ACTOR(A, ...)                                                                        \
    static const ::troupe::remote::detail::actor_exposure<A __VA_OPT__(, ) __VA_ARGS__> TROUPE_DETAIL_CAT( \
        troupe_actor_exposure_, __COUNTER__) {                                                             \
#A                                                                                                 \
    }
