#pragma once
/// \file
/// The errors of process actors: an exception raised in another process, and a process actor
/// that could not be started or reached.

#include <troupe/core/errors.hpp>

#include <string>

namespace troupe {

/// An exception thrown in another process actor, carried back to the caller: the actor's name
/// ("donny#2@4121"), the exception's type name where it was thrown, its message and, where the
/// remote side could take one, a backtrace. what() says all but the backtrace.
class remote_actor_error : public error {
public:
    remote_actor_error(std::string actor, std::string type, std::string message, std::string backtrace = {});
    /// The process actor it was thrown in.
    const std::string& actor() const noexcept { return actor_; }
    /// The exception's type name there ("std::invalid_argument").
    const std::string& type() const noexcept { return type_; }
    /// Its what() there.
    const std::string& message() const noexcept { return message_; }
    /// Where it was thrown, as text: one frame a line, the throwing function first
    /// ("#0 cellar::open_door(int)+0x2e (cellar)\n#1 ..."); empty for an exception that is not a
    /// std::exception. Functions have names where the executable exports its symbols (-rdynamic).
    const std::string& backtrace() const noexcept { return backtrace_; }

private:
    std::string actor_;
    std::string type_;
    std::string message_;
    std::string backtrace_;
};

/// A process actor could not be started (the executable, the handshake) or its connection
/// failed in a way that is not the actor's own error.
class process_error : public error {
public:
    using error::error;
};

}  // namespace troupe
