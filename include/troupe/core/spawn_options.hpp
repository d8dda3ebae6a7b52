#pragma once
/// \file
/// spawn_options: how to start an actor (name, mailbox bound, dedicated thread).

#include <troupe/core/mailbox.hpp>

#include <string>
#include <tuple>
#include <type_traits>

namespace troupe {

/// Options for system::spawn. Pass them as the first argument: sys.spawn<A>(opts, args...).
struct spawn_options {
    std::string name{};             ///< name for logs and lookups; default: the class name
    mailbox_options mailbox{};      ///< bound and overflow policy; default: unbounded
    bool dedicated_thread = false;  ///< run on a thread of its own (for handlers that block)
};

namespace detail {
/// True if the first of `Args` is spawn_options: a spawn's optional first argument.
template <class... Args>
constexpr bool first_is_spawn_options() {
    if constexpr (sizeof...(Args) == 0) {
        return false;
    } else {
        return std::is_same_v<std::decay_t<std::tuple_element_t<0, std::tuple<Args...>>>, spawn_options>;
    }
}
}  // namespace detail

}  // namespace troupe
