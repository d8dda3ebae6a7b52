#pragma once
/// \file
/// actor: the base class of actors, with the lifecycle hooks, and context, the runtime's
/// services an actor reaches through self().

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

namespace troupe {

class system;
class address;
template <class A>
class ref;

namespace detail {
class cell_base;
template <class A>
class cell;
}  // namespace detail

/// How an actor's coroutine handlers share it while they are suspended. Declare it in the
/// actor class: `static constexpr troupe::reentrancy reentrancy_policy = troupe::reentrancy::interleave;`
enum class reentrancy : unsigned char {
    none,        ///< the default: the mailbox waits while a handler is suspended
    interleave,  ///< other messages run at suspension points, one at a time
};

/// What an actor can ask of the runtime about itself, reached through actor::self().
class context {
public:
    /// Requests this actor's stop: messages already queued are handled first, later sends
    /// are refused. Never blocks; calling it again is harmless.
    void stop() const;
    /// The actor's unique id within its system.
    std::uint64_t id() const noexcept;
    /// The actor's name for logs: its class name (or the spawn option) and its id, "greeter#3".
    std::string name() const;
    /// The system the actor lives in.
    troupe::system& system() const noexcept;
    /// An untyped address of this actor (see troupe::handles).
    troupe::address address() const;
    /// Starts a child of this actor (same system, same arguments as system::spawn). A child
    /// ends before its parent does: the parent's stop stops its children (newest first) and
    /// waits for them. The parent gets a troupe::child_stopped when one ends, if it has a
    /// handle(troupe::child_stopped).
    template <class A, class... Args>
    ref<A> spawn(Args&&... args) const;
    /// Makes `child`, an actor that this actor just started elsewhere (in another process, see
    /// troupe/remote/actor.hpp), a child of this actor as spawn would: stopped with it, told as
    /// a child_stopped. Throws troupe::error while this actor is ending. Adopt an actor once,
    /// and only one that nothing else owns as a child.
    template <class A>
    void adopt(const ref<A>& child) const;
    /// Moves a live child of this actor to `position` (0 = oldest) in the order its children
    /// are stopped in (newest first): a supervisor keeps a restarted child in its spec's place.
    template <class A>
    void place_child(const ref<A>& child, std::size_t position) const;
    /// Tells this actor (with a troupe::down message) when `target` ends, for whatever reason;
    /// at once if it has already ended. The actor needs a handle(troupe::down).
    template <class A>
    void monitor(const ref<A>& target) const;
    /// Links this actor and `other`: when either ends abnormally (failed, killed), the other
    /// gets a troupe::exit_signal if it has a handle(troupe::exit_signal), and fails otherwise.
    template <class A>
    void link(const ref<A>& other) const;

    explicit context(detail::cell_base* c) noexcept : cell_(c) {}

private:
    detail::cell_base* cell_;
};

/// Base class of every actor. Derive from it, add public `handle(Message)` overloads (their
/// return value answers an ask) and override the hooks you need. The constructor runs on the
/// thread that spawns the actor; hooks and handlers run on the actor's executor, one at a time.
class actor {
public:
    actor();
    virtual ~actor() = default;
    actor(const actor&) = delete;
    actor& operator=(const actor&) = delete;

protected:
    /// Runs on the actor's executor before the first message. Throwing stops the actor
    /// (logged; neither on_stop nor on_failure runs).
    virtual void on_start() {}
    /// Runs after a requested stop, once every message queued before it was handled.
    virtual void on_stop() {}
    /// Runs instead of on_stop when a message without a reply (a tell) made a handler throw;
    /// the actor then stops. Exceptions in an ask's handler go to the asker instead.
    virtual void on_failure(std::exception_ptr error) { (void)error; }

    /// The runtime's services for this actor: stop, spawn, id, name, system, address.
    context self() const noexcept { return context(cell_); }

private:
    friend class detail::cell_base;
    template <class A>
    friend class ref;
    detail::cell_base* cell_;
};

}  // namespace troupe
