#pragma once
/// \file
/// Turning an untyped message into a typed envelope, using the actor's troupe::handles list.

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/envelopes.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/message.hpp>

#include <string>
#include <typeinfo>

namespace troupe::detail {

/// Thrown (and turned into the asker's error) when an untyped ask expects the wrong reply.
[[noreturn]] void throw_reply_mismatch(const std::type_info& message, const std::type_info& actual,
                                       const std::type_info& expected);

template <class A, class M>
envelope* make_untyped_one(untyped_send& send) {
    static_assert(handles_v<A, M>, "troupe::handles lists a message type that the actor has no handle() overload for");
    using R = reply_t<A, M>;
    M& value = send.msg.template get<M>();
    if (send.reply == nullptr) {
        return new tell_envelope<A, M>(std::move(value));
    }
    if (*send.reply_type != typeid(R)) {
        throw_reply_mismatch(typeid(M), typeid(R), *send.reply_type);
    }
    auto* state = static_cast<shared_state<R>*>(send.reply);
    state->add_ref();
    return new message_envelope<A, M, R>(std::move(value), state_ptr<shared_state<R>>(state));
}

template <class A, class... Ms>
envelope* make_untyped_from(handles<Ms...>, untyped_send& send) {
    envelope* e = nullptr;
    ((e == nullptr && send.msg.template is<Ms>() ? (e = make_untyped_one<A, Ms>(send), true) : false), ...);
    return e;
}

template <class A>
envelope* make_untyped_envelope(untyped_send& send) {
    if constexpr (has_handles_list<A>::value) {
        return make_untyped_from<A>(typename A::handles{}, send);
    } else {
        return nullptr;
    }
}

}  // namespace troupe::detail
