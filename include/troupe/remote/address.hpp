#pragma once
/// \file
/// address: where a troupe process listens, as users write it: `unix:/run/troupe/app.sock` for
/// a Unix domain socket (same host, the default), `tcp:host:port` for TCP (`tcp:127.0.0.1:1616`,
/// `tcp:[::1]:1616`, `tcp:localhost:1616`).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace troupe::remote {

/// A listening address of a troupe process: a Unix domain socket path, or a TCP host and port.
class address {
public:
    /// The transports an address can name.
    enum class transport : std::uint8_t { unix_socket, tcp };

    /// The longest Unix socket path the kernel takes (sun_path, less its terminating NUL).
    static constexpr std::size_t max_unix_path = 107;

    /// Reads `unix:<path>` or `tcp:<host>:<port>` (an IPv6 host in brackets). Throws
    /// troupe::error ("not an address: 'x' (expected unix:/path or tcp:host:port)"), saying
    /// what is wrong where it can (a port out of range, a path too long).
    static address parse(std::string_view text);
    /// The Unix domain socket at `path` (throws troupe::error if empty or too long).
    static address unix_socket(std::string path);
    /// TCP to `host` (a name, an IPv4 or an IPv6 address, without brackets) on `port`.
    static address tcp(std::string host, std::uint16_t port);

    /// Which transport it names.
    transport kind() const noexcept { return kind_; }
    /// The socket path (Unix domain sockets; empty for TCP).
    const std::string& path() const noexcept { return kind_ == transport::unix_socket ? text_ : empty_; }
    /// The host, without brackets (TCP; empty for Unix domain sockets).
    const std::string& host() const noexcept { return kind_ == transport::tcp ? text_ : empty_; }
    /// The port (TCP; 0 for Unix domain sockets). Port 0 to listen on means "any free port".
    std::uint16_t port() const noexcept { return port_; }

    /// The text parse() reads back: `unix:/path`, `tcp:host:port`, `tcp:[::1]:port`.
    std::string to_string() const;

    bool operator==(const address&) const = default;

private:
    address(transport k, std::string text, std::uint16_t port) noexcept
        : kind_(k), text_(std::move(text)), port_(port) {}

    inline static const std::string empty_{};

    transport kind_ = transport::unix_socket;
    std::string text_;  // the path, or the host
    std::uint16_t port_ = 0;
};

}  // namespace troupe::remote
