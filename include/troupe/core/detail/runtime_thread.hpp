#pragma once
/// \file
/// Runtime threads: the threads of the runtime's own services (timers, I/O, reapers), which
/// must never block on an actor's mailbox. A tell from such a thread that finds a `block`
/// mailbox full is a counted dead letter instead of a wait.

namespace troupe::detail {

/// True on a thread that declared itself a runtime thread (see runtime_thread_scope).
bool on_runtime_thread() noexcept;

/// Marks the current thread as a runtime thread for the scope's life (scopes nest).
class runtime_thread_scope {
public:
    runtime_thread_scope() noexcept;
    ~runtime_thread_scope();
    runtime_thread_scope(const runtime_thread_scope&) = delete;
    runtime_thread_scope& operator=(const runtime_thread_scope&) = delete;

private:
    bool previous_;
};

}  // namespace troupe::detail
