#pragma once
/// \file
/// The envelope: a message moved onto the heap together with the code that handles it.

#include <troupe/core/detail/envelope_pool.hpp>

#include <cstddef>
#include <exception>
#include <new>
#include <typeinfo>

namespace troupe {
class actor;
}

namespace troupe::detail {

/// Takes over the envelope being dispatched on this thread: the dispatcher will not free it,
/// and the caller must dispose() it later. A coroutine handler does this, so that a message it
/// takes by reference lives as long as the coroutine. Null outside a dispatch. Defined with
/// the cells.
class envelope;
envelope* adopt_dispatched_envelope() noexcept;

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
    /// What kind of entry this is; only the runtime's own envelopes override it.
    enum class kind : unsigned char {
        message,   ///< a user message or proxy call
        stop,      ///< a requested stop; always last
        resume,    ///< resumes a suspended coroutine handler; gets past a paused or closed mailbox
        kill,      ///< ref.kill(): ends the actor at once; gets past a closed mailbox
        notice,    ///< another actor ended (down, exit_signal, child_stopped); gets past a closed mailbox
        callback,  ///< a future's continuation that runs as a turn (future::then inside an actor)
    };
    virtual kind what() const noexcept { return kind::message; }
    /// True for the runtime's own messages, which bypass mailbox bounds.
    bool is_control() const noexcept { return what() != kind::message; }
    /// Frees the envelope once handled or rejected. Reference-counted envelopes override it.
    virtual void dispose() noexcept { delete this; }

    /// Envelopes come from per-thread pools (see envelope_pool.hpp): they are freed on another
    /// thread than the one that made them, which a general-purpose allocator does slowly.
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }
    /// Over-aligned messages (`alignas(64)`) skip the pools, whose blocks are 16-aligned.
    static void* operator new(std::size_t size, std::align_val_t al) { return ::operator new(size, al); }
    static void operator delete(void* p, std::size_t size, std::align_val_t al) noexcept {
        ::operator delete(p, size, al);
    }

    /// Intrusive link used by the mailbox.
    envelope* next_ = nullptr;
};

}  // namespace troupe::detail
