#pragma once
/// \file
/// The exceptions troupe throws. Each says what went wrong in words a user can act on.

#include <stdexcept>
#include <string>

namespace troupe {

/// Base of every error troupe throws.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The actor is dead (stopped, failed or never started) and did not take the message.
class actor_dead : public error {
public:
    using error::error;
};

/// A wait with a deadline ran out: a future's get(timeout), a stop(timeout) or a receive.
class timeout : public error {
public:
    using error::error;
};

/// A coroutine's await was cancelled: its actor began to stop or fail, or a cancel scope ended.
class cancelled : public error {
public:
    using error::error;
};

/// A blocking wait would never end: an actor waiting for a reply only it could produce.
class deadlock : public error {
public:
    using error::error;
};

/// A bounded mailbox is full and its overflow policy is to fail the sender (or the message
/// was dropped by a drop policy and the sender asked for a reply).
class mailbox_full : public error {
public:
    using error::error;
};

/// The target does not handle this message type (untyped sends only; typed refs refuse at
/// compile time).
class unhandled_message : public error {
public:
    using error::error;
};

/// A promise was destroyed without a value or an error.
class broken_promise : public error {
public:
    using error::error;
};

/// A promise was given a value or an error twice.
class promise_already_satisfied : public error {
public:
    using error::error;
};

/// A future without a shared state was used (default-constructed or moved from).
class no_state : public error {
public:
    using error::error;
};

}  // namespace troupe
