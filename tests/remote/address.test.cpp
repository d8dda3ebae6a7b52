#include <troupe/remote/address.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "remote/endpoint.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

using troupe::remote::address;

namespace troupe::remote {
void PrintTo(const address& a, std::ostream* out) {
    *out << a.to_string();
}
}  // namespace troupe::remote

namespace {

std::string parse_failure(const std::string& text) {
    try {
        (void)address::parse(text);
    } catch (const troupe::error& e) {
        return e.what();
    }
    return "no error";
}

TEST(address, parses_a_unix_socket_path) {
    const address a = address::parse("unix:/run/troupe/app.sock");
    EXPECT_EQ(a.kind(), address::transport::unix_socket);
    EXPECT_EQ(a.path(), "/run/troupe/app.sock");
    EXPECT_EQ(a.host(), "");
    EXPECT_EQ(a.port(), 0);
    EXPECT_EQ(a.to_string(), "unix:/run/troupe/app.sock");
}

TEST(address, parses_tcp_hosts_and_ports) {
    const address v4 = address::parse("tcp:127.0.0.1:1616");
    EXPECT_EQ(v4.kind(), address::transport::tcp);
    EXPECT_EQ(v4.host(), "127.0.0.1");
    EXPECT_EQ(v4.port(), 1616);
    EXPECT_EQ(v4.path(), "");
    const address v6 = address::parse("tcp:[::1]:1616");
    EXPECT_EQ(v6.host(), "::1");
    EXPECT_EQ(v6.port(), 1616);
    const address name = address::parse("tcp:localhost:0");
    EXPECT_EQ(name.host(), "localhost");
    EXPECT_EQ(name.port(), 0);
    EXPECT_EQ(address::parse("tcp:h:65535").port(), 65535);
}

TEST(address, prints_what_it_parses) {
    for (const char* text : {"unix:/tmp/a.sock", "unix:relative.sock", "tcp:127.0.0.1:1616", "tcp:[::1]:1616",
                             "tcp:[fe80::1%eth0]:9", "tcp:example.org:80", "tcp:localhost:0"}) {
        EXPECT_EQ(address::parse(text).to_string(), text);
        EXPECT_EQ(address::parse(address::parse(text).to_string()), address::parse(text));
    }
    EXPECT_EQ(address::tcp("::1", 7).to_string(), "tcp:[::1]:7");
    EXPECT_EQ(address::unix_socket("/x").to_string(), "unix:/x");
}

TEST(address, compares_by_value) {
    EXPECT_EQ(address::parse("tcp:127.0.0.1:1"), address::tcp("127.0.0.1", 1));
    EXPECT_NE(address::parse("tcp:127.0.0.1:1"), address::parse("tcp:127.0.0.1:2"));
    EXPECT_NE(address::parse("tcp:localhost:1"), address::parse("tcp:127.0.0.1:1"));
    EXPECT_NE(address::parse("unix:/a"), address::parse("unix:/b"));
}

TEST(address, says_what_is_wrong) {
    EXPECT_EQ(parse_failure("x"), "not an address: 'x' (expected unix:/path or tcp:host:port)");
    EXPECT_EQ(parse_failure(""), "not an address: '' (expected unix:/path or tcp:host:port)");
    EXPECT_EQ(parse_failure("udp:1.2.3.4:5"), "not an address: 'udp:1.2.3.4:5' (expected unix:/path or tcp:host:port)");
    EXPECT_EQ(parse_failure("unix:"), "not an address: 'unix:' (the socket path is empty)");
    EXPECT_EQ(parse_failure("tcp:1.2.3.4"), "not an address: 'tcp:1.2.3.4' (expected tcp:host:port)");
    EXPECT_EQ(parse_failure("tcp::80"), "not an address: 'tcp::80' (the host is empty)");
    EXPECT_EQ(parse_failure("tcp:h:"), "not an address: 'tcp:h:' (the port is not a number)");
    EXPECT_EQ(parse_failure("tcp:h:8o"), "not an address: 'tcp:h:8o' (the port is not a number)");
    EXPECT_EQ(parse_failure("tcp:h:-1"), "not an address: 'tcp:h:-1' (the port is not a number)");
    EXPECT_EQ(parse_failure("tcp:h:65536"), "not an address: 'tcp:h:65536' (port 65536 is not in 0..65535)");
    EXPECT_EQ(parse_failure("tcp:::1:80"),
              "not an address: 'tcp:::1:80' (an IPv6 host goes in brackets: tcp:[::1]:port)");
    EXPECT_EQ(parse_failure("tcp:[::1]80"), "not an address: 'tcp:[::1]80' (expected tcp:[ipv6]:port)");
    EXPECT_EQ(parse_failure("tcp:[]:80"), "not an address: 'tcp:[]:80' (the host is empty)");
    const std::string long_path = "unix:/" + std::string(107, 'p');
    EXPECT_EQ(parse_failure(long_path), "not an address: '" + long_path +
                                            "' (the socket path has 108 bytes, more than the 107 a Unix socket takes)");
    EXPECT_EQ(parse_failure("unix:/" + std::string(106, 'p')), "no error");
}

TEST(address, factories_check_too) {
    EXPECT_THROW((void)address::unix_socket(""), troupe::error);
    EXPECT_THROW((void)address::tcp("", 1), troupe::error);
}

TEST(address, numeric_hosts_and_localhost_need_no_lookup) {
    namespace detail = troupe::remote::detail;
    const auto v4 = detail::numeric_endpoint(address::parse("tcp:127.0.0.1:1616"));
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->protocol().family(), AF_INET);
    EXPECT_EQ(detail::address_of(*v4), address::parse("tcp:127.0.0.1:1616"));
    const auto v6 = detail::numeric_endpoint(address::parse("tcp:[::1]:9"));
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->protocol().family(), AF_INET6);
    EXPECT_EQ(detail::address_of(*v6), address::parse("tcp:[::1]:9"));
    const auto local = detail::numeric_endpoint(address::parse("tcp:localhost:5"));
    ASSERT_TRUE(local.has_value());
    EXPECT_EQ(detail::address_of(*local), address::parse("tcp:127.0.0.1:5"));
    const auto uds = detail::numeric_endpoint(address::parse("unix:/tmp/x.sock"));
    ASSERT_TRUE(uds.has_value());
    EXPECT_EQ(uds->protocol().family(), AF_UNIX);
    EXPECT_EQ(detail::address_of(*uds), address::parse("unix:/tmp/x.sock"));
    EXPECT_FALSE(detail::numeric_endpoint(address::parse("tcp:example.invalid:80")).has_value());
    EXPECT_EQ(detail::resolve(address::parse("tcp:127.0.0.1:3")).size(), 1u);
}

TEST(address, an_unnamed_unix_socket_has_no_address) {
    const troupe::remote::detail::endpoint unnamed{asio::local::stream_protocol::endpoint()};
    EXPECT_FALSE(troupe::remote::detail::address_of(unnamed).has_value());
}

}  // namespace
