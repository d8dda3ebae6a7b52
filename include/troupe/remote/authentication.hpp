#pragma once
/// \file
/// authentication: how a process proves itself to process actors on other hosts, and what it
/// demands of them. One setting for the whole process, given to its TCP listeners and to the
/// connections it makes and accepts:
///
///     auto auth = troupe::remote::authentication::from_environment();  // TROUPE_SECRET(_FILE)
///
/// With a secret, every TCP connection, in either direction, opens only once both sides have
/// proved it (an HMAC-SHA256 challenge and response after the hellos; a wrong or missing proof
/// is refused with one warning line). Unix domain sockets never authenticate: the socket file's
/// mode (0600) keeps other users out. Without a secret, a TCP listener on an address other than
/// loopback refuses to start unless `insecure` says so. There is no encryption: see
/// docs/design/wire.md, "Authentication", for what this protects against and what not.

#include <troupe/remote/shared_secret.hpp>

#include <optional>

namespace troupe::remote {

/// The shared secret of TCP connections, and the opt-out for a listener without one.
struct authentication {
    /// The secret both sides of a TCP connection prove. None: TCP connections demand nothing
    /// (and are refused by a peer that demands it).
    std::optional<shared_secret> secret{};
    /// Lets a TCP listener on an address other than loopback run without a secret, so that
    /// anyone who reaches the port may call what this process serves. Off by default.
    bool insecure = false;

    /// The secret from shared_secret::from_environment() (none if the environment names none),
    /// and insecure off.
    static authentication from_environment();
};

}  // namespace troupe::remote
