#pragma once
// Endpoints: the asio side of a troupe::remote::address, for the listener and connect.

#include <troupe/remote/address.hpp>

#include <asio/generic/stream_protocol.hpp>

#include <optional>
#include <vector>

namespace troupe::remote::detail {

/// A socket address of any family (Unix, IPv4, IPv6), what generic stream sockets take.
using endpoint = asio::generic::stream_protocol::endpoint;

/// The endpoint of a Unix socket address, or of a TCP address whose host is numeric (IPv4,
/// IPv6) or "localhost" (127.0.0.1: never a lookup); nullopt for a host name to resolve.
std::optional<endpoint> numeric_endpoint(const address& a);

/// Every endpoint `a` names: numeric_endpoint's one, or a host name looked up (blocking).
/// Throws troupe::error if the lookup fails.
std::vector<endpoint> resolve(const address& a);

/// The address of `e`, or nullopt if it has none that parse() reads (an unnamed Unix socket:
/// the connecting end, a socketpair end).
std::optional<address> address_of(const endpoint& e);

}  // namespace troupe::remote::detail
