#pragma once
/// \file
/// The typed envelopes: a message (or a proxy call) for an actor of class A, with or without
/// a reply, and the traits that tell which messages an actor handles.

#include <troupe/core/detail/envelope.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/message.hpp>

#include <concepts>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace troupe::detail {

/// A message type that declares the reply of a handler taking a promise.
template <class M>
concept declares_reply = requires {
    typename M::reply_type;
};

/// A handler that answers by returning: `R handle(M)`.
template <class A, class M>
concept returning_handler = requires(A& a, M m) {
    a.handle(std::move(m));
};

/// A handler that answers later through a promise: `void handle(M, promise<M::reply_type>)`.
template <class A, class M>
concept promising_handler = declares_reply<M> && requires(A& a, M m, promise<typename M::reply_type> p) {
    a.handle(std::move(m), std::move(p));
};

/// True if actors of class A handle messages of type M.
template <class A, class M>
inline constexpr bool handles_v = returning_handler<A, M> || promising_handler<A, M>;

/// Converts to M&& and to nothing else: a handler reached from it takes an M without a
/// user-defined conversion (at most a standard one, such as int to long). Never defined.
template <class M>
struct exactly {
    operator M&&() const;
};
/// True if a handler of A takes an M as it is (no constructor of another type runs on it).
template <class A, class M>
concept handles_as_is = requires(A& a) {
    a.handle(std::declval<exactly<M>>());
}
|| (declares_reply<M> &&
    requires(A & a, promise<typename M::reply_type> p) { a.handle(std::declval<exactly<M>>(), std::move(p)); });

/// A type that refers to characters or objects it does not own.
template <class M>
inline constexpr bool is_non_owning_v =
    std::is_pointer_v<M> || std::is_same_v<M, std::string_view> || std::is_same_v<M, std::wstring_view>;

/// What a message sent as an argument of type Arg is stored as. A message is stored at the send
/// and given to the handler later, on the actor's thread; a `char*` stored for a
/// handle(std::string) would be read after the sender's buffer changed. So a C string is stored
/// as std::string when a handler takes that; any other argument that does not own what it
/// refers to (a pointer, a string_view) must reach a handler without a conversion to another
/// type, or the send is refused at compile time. Values are stored as their own (decayed) type.
template <class A, class Arg>
struct message_for {
    using decayed = std::decay_t<Arg>;
    static constexpr bool as_string =
        is_c_string_v<decayed> && !handles_as_is<A, decayed> && handles_as_is<A, std::string>;
    using type = std::conditional_t<as_string, std::string, decayed>;
    static constexpr bool handled = as_string || handles_v<A, decayed>;
    /// A non-owning argument that some handler takes only through a conversion to another type.
    static constexpr bool needs_conversion =
        !as_string && is_non_owning_v<decayed> && !handles_as_is<A, decayed> && handles_v<A, decayed>;
};
template <class A, class Arg>
using message_for_t = typename message_for<A, Arg>::type;

/// How a handler's return value answers an ask. troupe::async specializes it for task<T>:
/// such a handler is a coroutine, started by the runtime, whose result is the reply.
template <class Result>
struct handler_result {
    using reply_type = Result;
    static constexpr bool is_async = false;
};

template <class A, class M, class = void>
struct reply_of {
    using type = void;
};
template <class A, class M>
requires returning_handler<A, M>
struct reply_of<A, M> {
    using type =
        typename handler_result<std::decay_t<decltype(std::declval<A&>().handle(std::declval<M>()))>>::reply_type;
};
template <class A, class M>
requires(!returning_handler<A, M> && promising_handler<A, M>) struct reply_of<A, M> {
    using type = typename M::reply_type;
};
/// What an ask of M to an actor of class A returns a future of.
template <class A, class M>
using reply_t = typename reply_of<A, M>::type;

/// Logs that a handler's exception went back to its asker (debug level).
void log_returned_error(const std::type_info& message, const std::exception_ptr& e) noexcept;

/// Completes `reply` with the result of `call()`, or with its exception.
template <class R, class F>
void answer(shared_state<R>& reply, const std::type_info& message, F&& call) noexcept {
    try {
        if constexpr (std::is_void_v<R>) {
            call();
            reply.set_value();
        } else {
            reply.set_value(call());
        }
    } catch (...) {
        log_returned_error(message, std::current_exception());
        reply.try_set_error(std::current_exception());
    }
}

/// Runs a told message on `target`: no reply is expected. Exceptions escape (the actor's
/// failure).
template <class A, class M>
void run_told(A& target, M&& msg) {
    if constexpr (returning_handler<A, M>) {
        using returned = std::decay_t<decltype(target.handle(std::move(msg)))>;
        if constexpr (handler_result<returned>::is_async) {
            handler_result<returned>::start(target.handle(std::move(msg)), {}, typeid(M));
        } else {
            target.handle(std::move(msg));
        }
    } else {
        // The handler still gets a promise, whose value nobody reads.
        target.handle(std::move(msg), promise<typename M::reply_type>());
    }
}

/// A told message for an actor of class A: the message and nothing else, so that a queued
/// tell costs as little memory as possible.
template <class A, class M>
class tell_envelope final : public envelope {
public:
    template <class U>
    explicit tell_envelope(U&& msg) : msg_(std::forward<U>(msg)) {}

    void run(actor& a) override { run_told(static_cast<A&>(a), std::move(msg_)); }
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(M); }

private:
    M msg_;
};

/// An asked message for an actor of class A, with the state its reply goes to. A null state
/// makes it a tell (tell_envelope is the leaner choice for those).
template <class A, class M, class R>
class message_envelope final : public envelope {
public:
    template <class U>
    message_envelope(U&& msg, state_ptr<shared_state<R>> reply)
        : msg_(std::forward<U>(msg)), reply_(std::move(reply)) {}

    void run(actor& a) override {
        A& target = static_cast<A&>(a);
        if constexpr (returning_handler<A, M>) {
            using returned = std::decay_t<decltype(target.handle(std::move(msg_)))>;
            if constexpr (handler_result<returned>::is_async) {
                start_coroutine<returned>(target);
            } else if (!reply_) {
                target.handle(std::move(msg_));
            } else {
                answer(*reply_.get(), typeid(M), [&]() -> R {
                    if constexpr (std::is_void_v<R>) {
                        target.handle(std::move(msg_));
                    } else {
                        return target.handle(std::move(msg_));
                    }
                });
            }
        } else {
            using promised = typename M::reply_type;
            if constexpr (std::is_same_v<R, promised>) {
                if (reply_) {
                    run_promising(target);
                    return;
                }
            }
            // A tell: the handler still gets a promise, whose value nobody reads.
            target.handle(std::move(msg_), promise<promised>());
        }
    }
    bool reject(const std::exception_ptr& why) noexcept override { return reply_ && reply_->try_set_error(why); }
    const std::type_info& type() const noexcept override { return typeid(M); }

private:
    template <class Task>
    void start_coroutine(A& target) {
        try {
            handler_result<Task>::start(target.handle(std::move(msg_)), reply_, typeid(M));
        } catch (...) {
            if (!reply_) {
                throw;  // a tell: the actor's failure
            }
            reply_->try_set_error(std::current_exception());
        }
    }
    void run_promising(A& target) {
        // While the handler runs, a promise it drops by throwing does not break the reply:
        // the exception itself goes to the asker.
        reply_->enter_handler();
        try {
            target.handle(std::move(msg_), promise<R>(reply_));
        } catch (...) {
            reply_->leave_handler();
            log_returned_error(typeid(M), std::current_exception());
            reply_->try_set_error(std::current_exception());
            return;
        }
        reply_->leave_handler();
        if (reply_->dropped_in_handler() && !reply_->ready()) {
            // The promise was dropped while an exception the handler caught unwound it.
            reply_->try_set_error(std::make_exception_ptr(
                broken_promise("the promise was dropped without a value (the reply will never come)")));
        }
    }

    M msg_;
    state_ptr<shared_state<R>> reply_;
};

/// A function run on an actor of class A (proxy calls, attribute reads and writes). Without
/// a reply state its exceptions are the actor's failure, as for a tell.
template <class A, class R, class F, class Tag>
class call_envelope final : public envelope {
public:
    call_envelope(F f, state_ptr<shared_state<R>> reply) : f_(std::move(f)), reply_(std::move(reply)) {}

    void run(actor& a) override {
        A& target = static_cast<A&>(a);
        if (!reply_) {
            f_(target);
            return;
        }
        answer(*reply_.get(), typeid(Tag), [&]() -> R {
            if constexpr (std::is_void_v<R>) {
                f_(target);
            } else {
                return f_(target);
            }
        });
    }
    bool reject(const std::exception_ptr& why) noexcept override { return reply_ && reply_->try_set_error(why); }
    const std::type_info& type() const noexcept override { return typeid(Tag); }

private:
    F f_;
    state_ptr<shared_state<R>> reply_;
};

}  // namespace troupe::detail
