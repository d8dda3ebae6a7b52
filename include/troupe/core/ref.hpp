#pragma once
/// \file
/// ref<A>: a typed handle to an actor of class A. tell and ask accept only messages A has a
/// handle() overload for (checked at compile time); call/get/set/member reach its members.

#include <troupe/core/actor.hpp>
#include <troupe/core/address.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/envelopes.hpp>
#include <troupe/core/detail/untyped.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/proxy.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace troupe {

template <class A>
class ref;
namespace detail {
template <class A>
cell_base& local_cell_of(const ref<A>& r, const char* operation);
}  // namespace detail

/// A typed handle to an actor of class A. Cheap to copy; keeps the actor's cell (not the
/// actor) alive. All members may be called from any thread.
///
/// The actor is usually in this process (a cell: messages travel as typed C++ values). A ref
/// may also stand for an actor elsewhere, through an endpoint the remote layer provides: the
/// same compile-time checks apply, messages and replies cross as bytes through troupe::codec
/// (a type without one fails the send with troupe::error), and stop, kill, exited, monitors
/// and links work the same way. Proxy calls (call, defer, get, set, member) carry C++ closures
/// and reach only actors of this process.
template <class A>
class ref : public proxy<A, A, detail::self_path> {
    // A may be incomplete here (an actor holding a ref to its own class), so the check that it
    // derives from troupe::actor lives in system::spawn.
    using base = proxy<A, A, detail::self_path>;

public:
    /// An empty ref; sending through it throws troupe::actor_dead.
    ref() = default;
    /// From inside an actor, a ref to itself: `troupe::ref{this}`.
    explicit ref(A* self) : base(detail::counted_ptr<detail::actor_endpoint>(self->cell_), {}) {}
    /// A ref to a derived actor is a ref to its base.
    template <class B>
    requires(std::is_base_of_v<A, B> && !std::is_same_v<A, B>) ref(const ref<B>& derived)
        : base(derived.endpoint_handle(), {}) {}
    /// For the runtime: a ref to the actor behind `target` (a cell of this process, or an
    /// endpoint standing for an actor of class A elsewhere).
    explicit ref(detail::counted_ptr<detail::actor_endpoint> target) : base(std::move(target), {}) {}

    /// Checks at compile time that A handles a message sent as an M, and how it is stored.
    template <class M>
    static constexpr void check_message() {
        using how = detail::message_for<A, M>;
        static_assert(!how::needs_conversion,
                      "troupe: this message reaches a handle() only through a conversion to another type; "
                      "convert it at the call (e.g. tell(std::string(buffer))): a message is stored as the "
                      "type it is sent as, and converting it later on the actor's thread could read memory "
                      "the sender has since changed");
        static_assert(how::handled,
                      "troupe: the actor has no handle() overload for this message type: add "
                      "`R handle(Message)` to the actor class, or send a type it handles");
    }

    /// Sends `msg` without waiting. Never blocks (unless the actor's bounded mailbox says so);
    /// throws troupe::actor_dead if the actor no longer takes messages (and troupe::error if
    /// it is elsewhere and the message type has no troupe::codec).
    template <class M>
    void tell(M&& msg) const {
        using message_type = detail::message_for_t<A, M>;
        check_message<M>();
        detail::actor_endpoint& to = this->target();
        if (detail::cell_base* c = to.local()) [[likely]] {
            c->send_or_throw(new detail::tell_envelope<A, message_type>(std::forward<M>(msg)));
        } else {
            detail::tell_through<message_type>(to, std::forward<M>(msg));
        }
    }
    /// Like tell, but reports a refusal (dead actor, full mailbox, no codec) by returning false
    /// instead of throwing. The refused message is destroyed.
    template <class M>
    bool try_tell(M&& msg) const noexcept {
        using message_type = detail::message_for_t<A, M>;
        check_message<M>();
        if (!this->target_) {
            return false;
        }
        try {
            detail::cell_base* c = this->target_->local();
            if (c == nullptr) {
                detail::tell_through<message_type>(*this->target_, std::forward<M>(msg));
                return true;
            }
            auto* e = new detail::tell_envelope<A, message_type>(std::forward<M>(msg));
            if (c->try_send(e) == detail::send_status::accepted) {
                return true;
            }
            delete e;
        } catch (...) {  // out of memory, the message's move constructor threw, or a remote refusal
        }
        return false;
    }

    /// Sends `msg` with backpressure, for `co_await target.send(msg)` inside an actor's coroutine
    /// handler (troupe/async/send.hpp). Nothing is sent until it is awaited. With room in the
    /// mailbox (or no bound) the message is queued at once; a full bounded mailbox suspends the
    /// coroutine until a slot is freed for it, whatever the overflow policy (that is for tell):
    /// no thread blocks, nothing is dropped, the sender's messages arrive in order. The await
    /// throws troupe::actor_dead if the actor is dead or closes while it waits (unlike tell,
    /// inside an actor too: an awaited send waits for an answer), troupe::cancelled if the
    /// awaiting actor begins to stop or its cancel scope is cancelled, troupe::error outside an
    /// actor's coroutine, troupe::deadlock if it would wait for room in its own mailbox under
    /// reentrancy::none; the message is then destroyed, never delivered. An empty ref throws
    /// troupe::actor_dead here, a ref to an actor of another process troupe::error (use tell).
    template <class M>
    [[nodiscard]] detail::pending_send send(M&& msg) const {
        using message_type = detail::message_for_t<A, M>;
        check_message<M>();
        // An actor elsewhere gets its flow control from its transport: not yet.
        detail::cell_base& target = detail::local_cell_of(*this, "an awaited send (co_await ref.send)");
        return detail::pending_send(detail::counted_ptr<detail::cell_base>(&target),
                                    new detail::tell_envelope<A, message_type>(std::forward<M>(msg)));
    }

    /// Sends `msg` and returns a future of the handler's result. A dead actor or a full mailbox
    /// fail the future; an exception in the handler reaches the future. Only an empty ref
    /// throws (troupe::actor_dead).
    template <class M>
    auto ask(M&& msg) const -> future<detail::reply_t<A, std::decay_t<M>>> {
        using message_type = detail::message_for_t<A, M>;
        check_message<M>();
        using R = detail::reply_t<A, message_type>;
        if (this->target().local() == nullptr) {
            return detail::ask_through<R, message_type>(*this->target_, std::forward<M>(msg));
        }
        return this->template ask_with<R>([&](detail::state_ptr<detail::shared_state<R>> reply) {
            return new detail::message_envelope<A, message_type, R>(std::forward<M>(msg), std::move(reply));
        });
    }

    /// Stops the actor after the messages already queued and waits until it has stopped
    /// (on_stop done). True if it was alive or stopping, false if it was already dead.
    /// From inside the actor itself this would wait for ever: it throws troupe::deadlock.
    bool stop() const { return stop_async().get(); }
    /// As stop(), but throws troupe::timeout after `d`; the actor still stops later.
    template <class Rep, class Period>
    bool stop(std::chrono::duration<Rep, Period> d) const {
        return stop_async().get(d);
    }
    /// Requests the stop and returns at once with a future of stop()'s result.
    future<bool> stop_async() const {
        detail::actor_endpoint& to = this->target();
        const bool requested = to.request_stop();
        if (!requested && to.terminated()) {
            return make_ready_future(false);
        }
        return to.termination().then_anywhere([] { return true; });
    }
    /// A future that completes once the actor has stopped, for whatever reason.
    future<void> terminated() const { return this->target().termination(); }
    /// A future of why the actor ended, once it has.
    future<exit_reason> exited() const {
        return this->target().termination().then_anywhere([t = this->target_] { return t->reason(); });
    }
    /// Ends the actor at once: messages still queued are refused (asks fail with
    /// troupe::actor_dead), coroutines are cancelled, children killed; neither on_stop nor
    /// on_failure runs. Its exit reason is `killed`. False if it had already ended. Returns
    /// before the actor has ended: `terminated()` says when it has.
    bool kill() const { return this->target().kill(); }

    /// True while the actor accepts messages (false from the moment a stop was requested).
    bool alive() const noexcept { return this->target_ && this->target_->alive(); }
    /// The actor's unique id (0 for an empty ref). Unique within its system; an actor
    /// elsewhere has its endpoint's id.
    std::uint64_t id() const noexcept { return this->target_ ? this->target_->id() : 0; }
    /// The actor's name, "greeter#3".
    std::string name() const { return this->target_ ? this->target_->name() : "nobody"; }
    /// True unless empty.
    explicit operator bool() const noexcept { return static_cast<bool>(this->target_); }
    /// True unless empty (as future::valid()).
    bool valid() const noexcept { return static_cast<bool>(this->target_); }
    /// True if the actor lives in this process.
    bool is_local() const noexcept { return this->target_ && this->target_->local() != nullptr; }

    /// The untyped address of this actor. Messages sent through it are checked against the
    /// actor's `using handles = troupe::handles<...>` list at run time.
    operator address() const {
        static_assert(detail::has_handles_list<A>::value,
                      "troupe: to reach this actor through an untyped address, declare "
                      "`using handles = troupe::handles<Message...>;` in its class");
        return address(detail::counted_ptr<detail::endpoint>(this->target_.get()));
    }

    friend bool operator==(const ref& a, const ref& b) noexcept { return a.target_ == b.target_; }

    /// For the runtime: the endpoint.
    const detail::counted_ptr<detail::actor_endpoint>& endpoint_handle() const noexcept { return this->target_; }
    /// For the runtime: the cell, or null for an empty ref or an actor elsewhere.
    detail::cell_base* local_cell() const noexcept { return this->target_ ? this->target_->local() : nullptr; }
};

template <class A>
ref(A*) -> ref<A>;

namespace detail {
[[noreturn]] void throw_needs_local(const char* operation, const endpoint& target);
/// The endpoint of `r`, for `operation`; throws troupe::actor_dead for an empty ref.
template <class A>
actor_endpoint& endpoint_of(const ref<A>& r, const char* operation) {
    if (!r) {
        throw actor_dead(std::string(operation) + ": the ref is empty");
    }
    return *r.endpoint_handle();
}
/// The cell of `r`, for an operation that needs the actor in this process; throws
/// troupe::actor_dead for an empty ref and troupe::error for an actor elsewhere.
template <class A>
cell_base& local_cell_of(const ref<A>& r, const char* operation) {
    actor_endpoint& e = endpoint_of(r, operation);
    if (cell_base* c = e.local()) {
        return *c;
    }
    throw_needs_local(operation, e);
}
}  // namespace detail

}  // namespace troupe

template <class A>
struct std::hash<troupe::ref<A>> {
    std::size_t operator()(const troupe::ref<A>& r) const noexcept {
        return std::hash<const void*>()(r.endpoint_handle().get());
    }
};
