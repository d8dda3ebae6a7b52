#pragma once
/// \file
/// address: an untyped handle to an actor or an inbox. Checks message types at run time;
/// a message the target does not handle goes to dead letters.

#include <troupe/core/codec.hpp>
#include <troupe/core/detail/endpoint.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/message.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace troupe {

namespace detail {
/// Boxes `msg` as an M (converting it only if it is not one already).
template <class M, class Arg>
message box_as(Arg&& msg) {
    if constexpr (std::is_same_v<std::decay_t<Arg>, M>) {
        return message(std::forward<Arg>(msg));
    } else {
        return message(M(std::forward<Arg>(msg)));
    }
}
/// Sends `msg`, stored as an M, through `target`'s deliver(): the untyped path, and the path
/// of a typed ref to an actor that is not a cell of this process. Throws what deliver throws.
template <class M, class Arg>
void tell_through(endpoint& target, Arg&& msg) {
    message box = box_as<M>(std::forward<Arg>(msg));
    target.deliver({box, nullptr, nullptr, message_codec_for<M>(), nullptr});
}
/// Asks `msg`, stored as an M, through `target`'s deliver(); the reply must be an R. Never
/// throws: a refusal fails the future.
template <class R, class M, class Arg>
future<R> ask_through(endpoint& target, Arg&& msg) {
    // A bare state, not a promise: the target's envelope takes its own reference, and
    // dropping ours must not complete the future with broken_promise.
    state_ptr<shared_state<R>> reply(shared_state<R>::make());
    auto result = make_future(reply);
    try {
        message box = box_as<M>(std::forward<Arg>(msg));
        target.deliver({box, reply.get(), &typeid(R), message_codec_for<M>(), reply_codec_for<R>()});
    } catch (...) {
        reply->try_set_error(std::current_exception());
    }
    return result;
}
}  // namespace detail

/// An untyped handle to an actor (one that declares troupe::handles) or an inbox.
class address {
public:
    /// An address of nothing; sending through it throws troupe::actor_dead.
    address() = default;
    /// For the runtime: wraps an endpoint.
    explicit address(detail::counted_ptr<detail::endpoint> e) noexcept : endpoint_(std::move(e)) {}

    /// Sends `msg`. Throws actor_dead if the target is dead and mailbox_full if its bounded
    /// mailbox refuses; a type the target does not handle goes to dead letters (logged).
    template <class M>
    void tell(M&& msg) const {
        detail::tell_through<stored_t<M>>(target(), std::forward<M>(msg));
    }
    /// Sends `msg` and returns a future of the reply, which must be of type R. Never throws:
    /// a dead target, an unhandled type or a wrong R fail the future.
    template <class R, class M>
    future<R> ask(M&& msg) const {
        if (!endpoint_) {
            return make_failed_future<R>(actor_dead("cannot send through an empty address"));
        }
        return detail::ask_through<R, stored_t<M>>(*endpoint_, std::forward<M>(msg));
    }

    /// True while the target accepts messages.
    bool alive() const noexcept { return endpoint_ && endpoint_->alive(); }
    /// The target's id (0 for an empty address).
    std::uint64_t id() const noexcept { return endpoint_ ? endpoint_->id() : 0; }
    /// The target's name, "greeter#3" ("nobody" for an empty address).
    std::string name() const { return endpoint_ ? endpoint_->name() : "nobody"; }
    /// True unless empty.
    explicit operator bool() const noexcept { return static_cast<bool>(endpoint_); }

    friend bool operator==(const address& a, const address& b) noexcept { return a.endpoint_ == b.endpoint_; }
    /// For the runtime: the endpoint.
    detail::endpoint* get() const noexcept { return endpoint_.get(); }

private:
    /// As a typed ref stores it: a C string as std::string, anything else as its own type.
    template <class M>
    using stored_t = std::conditional_t<detail::is_c_string_v<std::decay_t<M>>, std::string, std::decay_t<M>>;
    detail::endpoint& target() const {
        if (!endpoint_) {
            throw actor_dead("cannot send through an empty address");
        }
        return *endpoint_;
    }

    detail::counted_ptr<detail::endpoint> endpoint_;
};

}  // namespace troupe

template <>
struct std::hash<troupe::address> {
    std::size_t operator()(const troupe::address& a) const noexcept { return std::hash<const void*>()(a.get()); }
};
