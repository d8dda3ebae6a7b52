// Addresses: parsing and printing `unix:<path>` and `tcp:<host>:<port>`, and their asio
// endpoints (endpoint.hpp).

#include <troupe/remote/address.hpp>

#include <troupe/core/errors.hpp>

#include "endpoint.hpp"

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace troupe::remote {

namespace {

constexpr std::string_view unix_prefix = "unix:";
constexpr std::string_view tcp_prefix = "tcp:";

[[noreturn]] void not_an_address(std::string_view text, std::string_view why) {
    std::string message = "not an address: '";
    message.append(text).append("' (").append(why).append(")");
    throw error(message);
}

[[noreturn]] void not_an_address(std::string_view text) {
    not_an_address(text, "expected unix:/path or tcp:host:port");
}

/// The reason a Unix socket path is unusable, or empty.
std::string bad_path(std::string_view path) {
    if (path.empty()) {
        return "the socket path is empty";
    }
    if (path.find('\0') != std::string_view::npos) {
        return "the socket path contains a NUL byte";
    }
    if (path.size() > address::max_unix_path) {
        return "the socket path has " + std::to_string(path.size()) + " bytes, more than the " +
               std::to_string(address::max_unix_path) + " a Unix socket takes";
    }
    return {};
}

address parse_tcp(std::string_view text, std::string_view rest) {
    std::string_view host;
    std::string_view port;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            not_an_address(text, "expected tcp:[ipv6]:port");
        }
        host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            not_an_address(text, "expected tcp:host:port");
        }
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            not_an_address(text, "an IPv6 host goes in brackets: tcp:[::1]:port");
        }
    }
    if (host.empty()) {
        not_an_address(text, "the host is empty");
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size()) {
        not_an_address(text, "the port is not a number");
    }
    if (value > 65535) {
        not_an_address(text, "port " + std::string(port) + " is not in 0..65535");
    }
    return address::tcp(std::string(host), static_cast<std::uint16_t>(value));
}

}  // namespace

address address::parse(std::string_view text) {
    if (text.starts_with(unix_prefix)) {
        const std::string_view path = text.substr(unix_prefix.size());
        if (const std::string why = bad_path(path); !why.empty()) {
            not_an_address(text, why);
        }
        return address(transport::unix_socket, std::string(path), 0);
    }
    if (text.starts_with(tcp_prefix)) {
        return parse_tcp(text, text.substr(tcp_prefix.size()));
    }
    not_an_address(text);
}

address address::unix_socket(std::string path) {
    if (const std::string why = bad_path(path); !why.empty()) {
        not_an_address(std::string(unix_prefix) + path, why);
    }
    return address(transport::unix_socket, std::move(path), 0);
}

address address::tcp(std::string host, std::uint16_t port) {
    if (host.empty()) {
        not_an_address(std::string(tcp_prefix) + ":" + std::to_string(port), "the host is empty");
    }
    return address(transport::tcp, std::move(host), port);
}

std::string address::to_string() const {
    if (kind_ == transport::unix_socket) {
        return std::string(unix_prefix) + text_;
    }
    std::string out(tcp_prefix);
    if (text_.find(':') != std::string::npos) {
        out.append("[").append(text_).append("]");
    } else {
        out.append(text_);
    }
    return out.append(":").append(std::to_string(port_));
}

namespace detail {

std::optional<endpoint> numeric_endpoint(const address& a) {
    if (a.kind() == address::transport::unix_socket) {
        return endpoint(asio::local::stream_protocol::endpoint(a.path()));
    }
    if (a.host() == "localhost") {
        return endpoint(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), a.port()));
    }
    std::error_code ec;
    const auto ip = asio::ip::make_address(a.host(), ec);
    if (ec) {
        return std::nullopt;
    }
    return endpoint(asio::ip::tcp::endpoint(ip, a.port()));
}

std::vector<endpoint> resolve(const address& a) {
    if (auto e = numeric_endpoint(a)) {
        return {*e};
    }
    asio::io_context scratch;
    asio::ip::tcp::resolver resolver(scratch);
    std::error_code ec;
    const auto results =
        resolver.resolve(a.host(), std::to_string(a.port()), asio::ip::tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
        throw error("cannot resolve " + a.to_string() + ": " + (ec ? ec.message() : std::string("no addresses")));
    }
    std::vector<endpoint> out;
    for (const auto& r : results) {
        out.emplace_back(r.endpoint());
    }
    return out;
}

std::optional<address> address_of(const endpoint& e) {
    if (e.protocol().family() == AF_UNIX) {
        asio::local::stream_protocol::endpoint local;
        // Copied before resize(): resize() looks at the copied bytes for a trailing NUL.
        std::memcpy(local.data(), e.data(), std::min(e.size(), local.capacity()));
        local.resize(e.size());
        const std::string path = local.path();
        if (!bad_path(path).empty()) {
            return std::nullopt;  // unnamed (a connecting or socketpair end) or abstract
        }
        return address::unix_socket(path);
    }
    if (e.protocol().family() != AF_INET && e.protocol().family() != AF_INET6) {
        return std::nullopt;
    }
    asio::ip::tcp::endpoint ip;
    std::memcpy(ip.data(), e.data(), std::min(e.size(), ip.capacity()));
    ip.resize(e.size());
    return address::tcp(ip.address().to_string(), ip.port());
}

}  // namespace detail

}  // namespace troupe::remote
