#pragma once
/// \file
/// spawn_options: how to start an actor (name, mailbox bound, dedicated thread).

#include <troupe/core/mailbox.hpp>

#include <string>

namespace troupe {

/// Options for system::spawn. Pass them as the first argument: sys.spawn<A>(opts, args...).
struct spawn_options {
    std::string name{};             ///< name for logs and lookups; default: the class name
    mailbox_options mailbox{};      ///< bound and overflow policy; default: unbounded
    bool dedicated_thread = false;  ///< run on a thread of its own (for handlers that block)
};

}  // namespace troupe
