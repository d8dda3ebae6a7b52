#pragma once
/// \file
/// probe<M...>: an actor of the test system that records the messages of types M... sent to
/// it, so that a test can hand it out as a ref or an address and then expect, one by one, the
/// exact messages that arrive.

#include <troupe/core/actor.hpp>
#include <troupe/core/address.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/spawn_options.hpp>
#include <troupe/core/system.hpp>
#include <troupe/testing/errors.hpp>
#include <troupe/testing/test_system.hpp>

#include <concepts>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace troupe::testing {

namespace detail {

/// The messages a probe actor received and the test has not expected yet, oldest first.
class probe_log {
public:
    /// Appends a message (the probe actor's turn).
    void record(message m);
    /// True if nothing is queued.
    bool empty() const;
    /// The number of messages queued.
    std::size_t size() const;
    /// The type of the oldest message; only when not empty.
    const std::type_info& front_type() const;
    /// The oldest message, which stays queued; only when not empty.
    message& front();
    /// Removes and returns the oldest message; only when not empty.
    message pop();
    /// "ping, pong, pong": the types queued, for error messages.
    std::string types() const;

private:
    mutable std::mutex mutex_;  // an actor on a dedicated thread may share the probe
    std::deque<message> queue_;
};

/// Runs a function in the probe actor's turn (to monitor another actor from it).
struct probe_command {
    std::function<void(const context&)> run;
};

/// One handle() overload of a probe actor: records the message.
template <class Self, class M>
class probe_handler {
public:
    /// Records `m` in the probe's log.
    void handle(M m) { static_cast<Self*>(this)->log_->record(message(std::move(m))); }
};

/// The actor behind a probe: one handle() per message type, each recording what arrives.
template <class... Ms>
class probe_actor final : public actor, public probe_handler<probe_actor<Ms...>, Ms>... {
public:
    /// Reachable through an address for exactly these types.
    using handles = troupe::handles<Ms...>;
    /// The recording handle() of each message type.
    using probe_handler<probe_actor, Ms>::handle...;

    /// A probe actor recording into `log`.
    explicit probe_actor(std::shared_ptr<probe_log> log) : log_(std::move(log)) {}
    /// Runs a command of the test in this actor's turn.
    void handle(probe_command c) { c.run(self()); }

private:
    template <class, class>
    friend class probe_handler;
    std::shared_ptr<probe_log> log_;
};

/// "3" for a value that can be written to a stream, empty otherwise.
template <class M>
std::string show(const M& value) {
    if constexpr (requires(std::ostream & os) { os << value; }) {
        std::ostringstream out;
        out << value;
        return out.str();
    } else {
        return {};
    }
}

/// What every probe shares whatever its message types: the log and the failure messages.
class probe_base {
protected:
    probe_base(test_system& t, std::shared_ptr<probe_log> log) noexcept : system_(&t), log_(std::move(log)) {}

    /// Runs turns until a message is queued; then checks that it is a `wanted` (without taking
    /// it). Throws expectation_failed naming what arrived instead, or that nothing did.
    void await_next(const std::type_info& wanted, const std::string& who) const;
    /// Runs until idle; throws expectation_failed if anything is queued.
    void check_nothing(const std::string& who) const;
    /// Throws expectation_failed: "<who> expected <what>".
    [[noreturn]] static void fail(const std::string& who, const std::string& what);

    test_system* system_;
    std::shared_ptr<probe_log> log_;
};

}  // namespace detail

/// A probe taking messages of types Ms...: spawn it in a test system, give its address() (or
/// ref()) to the actors under test, then expect<M>() the messages one by one, in the order
/// they arrived. Each expectation runs the system's turns until a message is there.
template <class... Ms>
class probe : private detail::probe_base {
    static_assert(sizeof...(Ms) > 0, "troupe::testing::probe needs at least one message type");

public:
    /// The actor class behind the probe (for actors under test that take a typed ref).
    using actor_type = detail::probe_actor<Ms...>;

    /// A probe actor named `name` ("probe#5" in messages) in the test system `t`. It lives
    /// until the test system shuts down.
    explicit probe(test_system& t, std::string name = "probe")
        : probe_base(t, std::make_shared<detail::probe_log>()),
          ref_(t.spawn<actor_type>(named(std::move(name)), log_)) {}

    /// The probe's address, for actors that reply to an address.
    troupe::address address() const { return ref_; }
    /// Converts to its address, so that a probe can be passed where an address is expected.
    operator troupe::address() const { return ref_; }
    /// The probe's typed ref.
    const troupe::ref<actor_type>& ref() const noexcept { return ref_; }
    /// The probe actor's name, "probe#5".
    std::string name() const { return ref_.name(); }

    /// Takes the next message, which must be an M. Runs the system until one has arrived.
    /// Throws troupe::testing::expectation_failed naming what arrived instead, or saying that
    /// nothing did; a message that fails an expectation stays queued.
    template <class M>
    M expect() {
        peek<M>();
        return std::move(log_->pop().template get<M>());
    }
    /// Takes the next message, which must be an M equal to `value`.
    template <class M>
    requires std::equality_comparable<M> M expect(const M& value) {
        const M& next = peek<M>();
        if (!(next == value)) {
            const std::string want = detail::show(value);
            const std::string type = troupe::detail::type_name(typeid(M));
            fail(name(), want.empty() ? "a message of type " + type +
                                            " equal to the given one, but got one that differs (an operator<< for " +
                                            type + " would show both)"
                                      : "the " + type + " message " + want + ", but got " + detail::show(next));
        }
        return expect<M>();
    }
    /// Takes the next message, which must be an M for which `matches(m)` is true.
    template <class M, class Predicate>
    requires std::predicate<Predicate&, const M&> M expect(Predicate matches) {
        const M& next = peek<M>();
        if (!std::invoke(matches, next)) {
            const std::string got = detail::show(next);
            fail(name(), "a message of type " + troupe::detail::type_name(typeid(M)) +
                             " that matches the predicate, but got " +
                             (got.empty() ? std::string("one that does not") : got + ", which does not"));
        }
        return expect<M>();
    }
    /// Runs the system until idle, then checks that no message is waiting.
    void expect_nothing() { check_nothing(name()); }

    /// The number of messages received and not yet taken by expect().
    std::size_t size() const { return log_->size(); }
    /// True if no message is waiting (without running anything).
    bool empty() const { return log_->empty(); }

    /// Makes the probe monitor `target`: when it ends the probe receives a troupe::down (which
    /// must be one of its message types). Takes effect at the probe's next turn.
    template <class A>
    void monitor(const troupe::ref<A>& target) const {
        static_assert((std::is_same_v<Ms, troupe::down> || ...),
                      "probe::monitor: the probe must take troupe::down messages: probe<troupe::down, ...>");
        ref_.tell(detail::probe_command{[target](const context& self) { self.monitor(target); }});
    }

private:
    /// The next message, once there, which must be an M; it stays queued.
    template <class M>
    const M& peek() {
        static_assert((std::is_same_v<M, Ms> || ...),
                      "probe::expect<M>: M is not one of the probe's message types (probe<M...>)");
        await_next(typeid(M), name());
        return log_->front().template get<M>();
    }
    static spawn_options named(std::string name) {
        spawn_options o;
        o.name = std::move(name);
        return o;
    }

    troupe::ref<actor_type> ref_;
};

}  // namespace troupe::testing
