#pragma once
/// \file
/// inbox: an address that code which is not an actor (main, a test, a callback thread) can
/// receive messages on.

#include <troupe/core/address.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/message.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <typeinfo>

namespace troupe {

class system;
namespace detail {
class inbox_state;
}

/// A mailbox for non-actor code. Give its address() to actors; take messages with receive().
/// An inbox does not answer asks (they fail at once). Closed when destroyed.
class inbox {
public:
    /// A new inbox with an id from `sys`.
    explicit inbox(system& sys);
    ~inbox();
    inbox(const inbox&) = delete;
    inbox& operator=(const inbox&) = delete;

    /// The address actors send to.
    troupe::address address() const;

    /// Waits for the next message of any type.
    message receive();
    /// Waits for the next message of any type, at most `d`; throws troupe::timeout.
    message receive(std::chrono::steady_clock::duration d);
    /// Waits for the first message of type T; messages of other types stay queued.
    template <class T>
    T receive() {
        return std::move(take(&typeid(T), nullptr).template get<T>());
    }
    /// As receive<T>(), at most `d`; throws troupe::timeout.
    template <class T>
    T receive(std::chrono::steady_clock::duration d) {
        auto deadline = std::chrono::steady_clock::now() + d;
        return std::move(take(&typeid(T), &deadline).template get<T>());
    }
    /// The first message of type T if one is queued now.
    template <class T>
    std::optional<T> try_receive() {
        message m = try_take(typeid(T));
        if (!m) {
            return std::nullopt;
        }
        return std::move(m.template get<T>());
    }
    /// A future of the first message of type T, taken from the inbox when it is there (now or
    /// when it arrives); messages of other types stay queued. Awaitable in a coroutine handler:
    /// `auto m = co_await in.receive_async<reply>();`. Fails with troupe::actor_dead if the
    /// inbox is destroyed first.
    template <class T>
    future<T> receive_async() {
        return take_async(&typeid(T)).then_anywhere([](const message& m) { return m.template get<T>(); });
    }
    /// A future of the next message of any type.
    future<message> receive_async() { return take_async(nullptr); }
    /// Messages queued now.
    std::size_t size() const;

private:
    future<message> take_async(const std::type_info* type);

    message take(const std::type_info* type, const std::chrono::steady_clock::time_point* deadline);
    message try_take(const std::type_info& type);

    detail::inbox_state* state_;
};

}  // namespace troupe
