#pragma once
/// \file
/// codec<T>: how a message or a reply becomes bytes and back, for actors that live elsewhere
/// (another process, another host). Local sends never use it: they move the C++ value.

#include <troupe/core/detail/shared_state.hpp>
#include <troupe/core/message.hpp>

#include <concepts>
#include <cstddef>
#include <exception>
#include <span>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace troupe {

/// How values of type T cross a process boundary. Empty by default: such a type still goes
/// to every actor of this process, and sending it to an actor elsewhere fails with
/// troupe::error. troupe::wire fills it for its records; a program may specialise it for a
/// type of its own, before the first send of that type:
///
///     template <>
///     struct troupe::codec<point> {
///         static void encode(const point& p, std::vector<std::byte>& out);  // appends to out
///         static point decode(std::span<const std::byte> in);               // throws on bad bytes
///     };
template <class T>
struct codec {};

/// True if T has a codec: codec<T>::encode appends a T to a byte vector and codec<T>::decode
/// reads one back.
template <class T>
concept encodable = requires(const T& value, std::vector<std::byte>& out, std::span<const std::byte> in) {
    codec<T>::encode(value, out);
    { codec<T>::decode(in) } -> std::same_as<T>;
};

namespace detail {

/// The codec of one message type, erased: what an endpoint that is not a cell gets with each
/// message (untyped_send::codec).
struct message_codec {
    const std::type_info& type;
    /// Appends the message in `m` (which holds a `type`) to `out`.
    void (*encode)(const message& m, std::vector<std::byte>& out);
    /// Reads a message of `type` back; throws what the codec throws on bad bytes.
    message (*decode)(std::span<const std::byte> in);
};

/// The codec of one reply type R, erased (untyped_send::reply_codec). void needs no codec.
struct reply_codec {
    const std::type_info& type;
    /// Appends the reply `*value` (an R; ignored for void) to `out`.
    void (*encode)(const void* value, std::vector<std::byte>& out);
    /// Completes `reply`, a shared_state<R>, with the R read from `in`, or with the error the
    /// codec threw reading it.
    void (*complete)(state_base& reply, std::span<const std::byte> in) noexcept;
};

/// The codec of messages of type M, or null if M has none.
template <class M>
const message_codec* message_codec_for() noexcept {
    if constexpr (encodable<M>) {
        static const message_codec c{
            typeid(M),
            [](const message& m, std::vector<std::byte>& out) { codec<M>::encode(m.get<M>(), out); },
            [](std::span<const std::byte> in) { return message(codec<M>::decode(in)); },
        };
        return &c;
    } else {
        return nullptr;
    }
}

/// The codec of replies of type R, or null if R has none.
template <class R>
const reply_codec* reply_codec_for() noexcept {
    if constexpr (std::is_void_v<R>) {
        static const reply_codec c{
            typeid(void),
            [](const void*, std::vector<std::byte>&) {},
            [](state_base& reply, std::span<const std::byte>) noexcept {
                static_cast<shared_state<void>&>(reply).try_set_value();
            },
        };
        return &c;
    } else if constexpr (encodable<R>) {
        static const reply_codec c{
            typeid(R),
            [](const void* value, std::vector<std::byte>& out) {
                codec<R>::encode(*static_cast<const R*>(value), out);
            },
            [](state_base& reply, std::span<const std::byte> in) noexcept {
                auto& state = static_cast<shared_state<R>&>(reply);
                try {
                    state.try_set_value(codec<R>::decode(in));
                } catch (...) {
                    state.try_set_error(std::current_exception());
                }
            },
        };
        return &c;
    } else {
        return nullptr;
    }
}

}  // namespace detail
}  // namespace troupe
