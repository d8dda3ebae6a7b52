#pragma once
/// \file
/// The envelope: a message moved onto the heap together with the code that handles it.

#include <exception>
#include <typeinfo>

namespace troupe {
class actor;
}

namespace troupe::detail {

/// One mailbox entry. The typed subclasses know the actor class and the message type, so
/// handling a message is one virtual call with no lookup.
class envelope {
public:
    envelope() = default;
    envelope(const envelope&) = delete;
    envelope& operator=(const envelope&) = delete;
    virtual ~envelope() = default;

    /// Handles the message on `a`. An exception escaping from here is the actor's failure;
    /// envelopes that carry a reply catch their own and send them to the asker.
    virtual void run(actor& a) = 0;
    /// Called instead of run() when the message will never be handled: an asker gets `why`.
    /// Returns true if someone was told (an asker), false if the message was a plain tell.
    virtual bool reject(const std::exception_ptr& why) noexcept = 0;
    /// The message's type, for logs and dead letters.
    virtual const std::type_info& type() const noexcept = 0;
    /// True for the runtime's own messages (start, stop), which bypass mailbox bounds.
    virtual bool is_control() const noexcept { return false; }

    /// Intrusive link used by the mailbox.
    envelope* next_ = nullptr;
};

}  // namespace troupe::detail
