#pragma once
/// \file
/// exit_reason: why an actor ended, and the messages that tell other actors about it (down for
/// monitors, exit_signal for links, child_stopped for parents).

#include <troupe/core/address.hpp>

#include <cstdint>
#include <exception>
#include <string>

namespace troupe {

/// Why an actor ended.
struct exit_reason {
    enum class kind : unsigned char {
        normal,   ///< it stopped itself (self().stop())
        stopped,  ///< it was stopped from outside: ref.stop(), its parent, a supervisor, shutdown
        failed,   ///< a handler or on_start threw (or a linked actor failed); see `error`
        killed,   ///< ref.kill(): stopped at once, its queued messages refused
    };
    kind what = kind::normal;
    std::exception_ptr error;  ///< the exception, for `failed`
    std::string error_type;    ///< its type, "std::runtime_error" (for `failed`)
    std::string message;       ///< its what() (for `failed`)

    /// True for failed and killed: the endings that links propagate and supervisors restart.
    bool abnormal() const noexcept { return what == kind::failed || what == kind::killed; }
    /// "normal", "stopped", "killed" or "failed: std::runtime_error: boom".
    std::string describe() const;
};

/// What every notice about another actor's end carries.
struct ended {
    address who;           ///< the actor that ended (dead: sends to it are refused)
    std::uint64_t id = 0;  ///< its id
    std::string name;      ///< its name, "worker#7"
    exit_reason reason;    ///< why it ended
};

/// Sent to an actor that monitors another (context::monitor) when that one ends, for any
/// reason. The watcher needs a `handle(troupe::down)`.
struct down : ended {};

/// Sent to an actor linked to another (context::link) when that one ends abnormally. An actor
/// with a `handle(troupe::exit_signal)` gets it as a message; one without fails too.
struct exit_signal : ended {};

/// Sent to a parent when one of its children (actors it spawned with self().spawn) ends, for
/// any reason, if the parent has a `handle(troupe::child_stopped)`.
struct child_stopped : ended {};

/// The failure of an actor that was linked to one that failed (exit_reason::error holds it).
class linked_failure : public error {
public:
    using error::error;
};

}  // namespace troupe
