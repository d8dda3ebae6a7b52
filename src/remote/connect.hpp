#pragma once
// connect: a stream socket connected to an address, for connection::make.

#include <troupe/async/io_service.hpp>
#include <troupe/remote/address.hpp>

#include "connection.hpp"

#include <chrono>
#include <functional>
#include <system_error>

namespace troupe::remote::detail {

/// What connect() calls when it is done: an error (asio's: not found, refused, timed out), or
/// none and the connected socket.
using connect_handler = std::function<void(const std::error_code&, connection::socket)>;

/// How long a connect waits unless told otherwise.
inline constexpr std::chrono::milliseconds default_connect_timeout{5000};

/// Connects to `where` without blocking: a host name is looked up first, and each of its
/// addresses tried in turn. `done` is called once, on the I/O thread (never if the io_service
/// shuts down first). Any thread.
void connect(io_service& io, const address& where, connect_handler done,
             std::chrono::milliseconds timeout = default_connect_timeout);

/// Connects to `where`, waiting for it on this thread (not the I/O thread: that would never
/// finish). Throws troupe::error ("cannot connect to unix:/run/x.sock: No such file or
/// directory").
connection::socket connect(io_service& io, const address& where,
                           std::chrono::milliseconds timeout = default_connect_timeout);

}  // namespace troupe::remote::detail
