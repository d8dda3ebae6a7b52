#pragma once
// listener: a listening socket on an address (a Unix socket file or a TCP port) that hands each
// accepted socket to a callback on the I/O thread.

#include <troupe/async/io_service.hpp>
#include <troupe/remote/address.hpp>
#include <troupe/remote/authentication.hpp>

#include "connection.hpp"

#include <functional>
#include <memory>

namespace troupe::remote::detail {

/// Accepts connections on one address until closed (or destroyed). Move-only.
class listener {
public:
    /// Called on the I/O thread with each accepted socket (on the io_service's context, ready
    /// for connection::make). An exception from it is logged; accepting goes on.
    using accept_handler = std::function<void(connection::socket)>;

    /// Listens on `where`. A Unix socket's file is created with mode 0600 (only this user may
    /// connect); a file left there by a process that is gone (nothing accepts on it) is
    /// replaced, one that something listens on is not ("address in use"). TCP port 0 takes a
    /// free port (local_address() says which). A TCP address other than loopback needs a secret
    /// in `auth` (the accepted connections must then be given it), or auth.insecure. Throws
    /// troupe::error saying why it cannot listen.
    static listener open(io_service& io, const address& where, accept_handler on_accept,
                         const authentication& auth = {});

    listener() = default;
    listener(listener&&) noexcept = default;
    listener& operator=(listener&& other) noexcept;
    /// Closes.
    ~listener();

    /// Where it listens: the address given, with the real port for TCP port 0.
    const address& local_address() const;
    /// Stops accepting and closes the socket (and removes the socket file it created, if it is
    /// still the one it created). Any thread; idempotent. A callback running on the I/O thread
    /// is waited for: once this returns none runs (but the one calling it, if it does).
    void close() noexcept;

    struct state;

private:
    explicit listener(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}

    std::shared_ptr<state> state_;
};

}  // namespace troupe::remote::detail
