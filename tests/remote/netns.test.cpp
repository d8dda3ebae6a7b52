#include "remote/netns.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/authentication.hpp>

#include "remote/connection.hpp"
#include "remote/listener.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remote/processes.hpp"
#include "remote/remote_support.hpp"

// Two hosts on one machine: a TCP connection from namespace b to a listener in namespace a
// proves the shared secret and carries messages both ways; a wrong secret is refused; b cannot
// reach a's loopback; and the namespaces (and the `ip` processes that made them) are gone after.

namespace {

using namespace remote_test;
using troupe::remote::address;
using troupe::remote::authentication;
using troupe::remote::shared_secret;
using troupe::remote::detail::listener;
using troupe_test::log_capture;
using troupe_test::small_system;
using lines = std::vector<std::string>;

const shared_secret right_secret("correct horse battery staple");
const shared_secret wrong_secret("incorrect horse battery staple");

/// A socket connected from a thread in namespace `ns` to host:port: its descriptor and local
/// port, or -errno and 0.
std::pair<int, std::uint16_t> connect_from(const std::string& ns, const std::string& host, std::uint16_t port) {
    return netns_pair::run_in(ns, [&]() -> std::pair<int, std::uint16_t> {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return {-errno, 0};
        }
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(troupe_test::patience().count() / 1000);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));  // bounds the connect
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        ::inet_pton(AF_INET, host.c_str(), &to.sin_addr);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
            const int e = errno;
            ::close(fd);
            return {-e, 0};
        }
        sockaddr_in from{};
        socklen_t length = sizeof(from);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&from), &length);
        return {fd, ntohs(from.sin_port)};
    });
}

/// A listener opened from a thread in namespace `ns` on `where`, whose first accepted socket
/// becomes a connection with the secret.
struct server {
    server(troupe::io_service& io, const std::string& ns, const std::string& where) {
        authentication auth;
        auth.secret = right_secret;
        l = netns_pair::run_in(ns, [&] {
            return listener::open(
                io, address::parse(where),
                [this, &io](connection::socket s) {
                    auto o = options_for("a-side", "1");
                    o.secret = right_secret;
                    o.accepted = true;
                    auto c = connection::make(io, std::move(s), std::move(o), events);
                    std::lock_guard lock(mutex);
                    if (!accepted) {
                        accepted = c;
                        c->start();
                    }
                },
                auth);
        });
    }
    std::shared_ptr<connection> first() {
        std::lock_guard lock(mutex);
        return accepted;
    }

    std::shared_ptr<recorder> events = std::make_shared<recorder>();
    std::mutex mutex;
    std::shared_ptr<connection> accepted;
    listener l;
};

/// A connection from namespace b to `to`, with `secret`; nullptr (and a failure) if the connect
/// fails. `port` gets its local port.
std::shared_ptr<connection> client_from_b(troupe::io_service& io, const netns_pair& hosts, const address& to,
                                          const shared_secret& secret, const std::shared_ptr<recorder>& events,
                                          std::uint16_t& port) {
    const auto [fd, local_port] = connect_from(hosts.b(), to.host(), to.port());
    if (fd < 0) {
        ADD_FAILURE() << "cannot connect from " << hosts.b() << " to " << to.to_string() << ": " << std::strerror(-fd);
        return nullptr;
    }
    port = local_port;
    auto o = options_for("b-side", "2");
    o.secret = secret;
    auto c =
        connection::make(io, connection::socket(io.context(), asio::generic::stream_protocol(AF_INET, SOCK_STREAM), fd),
                         std::move(o), events);
    c->start();
    return c;
}

using netns = netns_test;

TEST_F(netns, a_connection_between_two_hosts_proves_the_secret_and_carries_messages_both_ways) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    server a(io, hosts->a(), std::string("tcp:") + netns_pair::a_address + ":0");
    EXPECT_EQ(a.l.local_address().host(), netns_pair::a_address);
    auto events = std::make_shared<recorder>();
    std::uint16_t port = 0;
    auto b = client_from_b(io, *hosts, a.l.local_address(), right_secret, events, port);
    ASSERT_NE(b, nullptr);
    ASSERT_TRUE(events->opened.wait());
    ASSERT_TRUE(a.events->opened.wait());
    const auto accepted = a.first();
    EXPECT_TRUE(b->peer().auth);
    EXPECT_EQ(b->peer().name, "a-side");
    EXPECT_EQ(accepted->peer().name, "b-side");
    for (std::uint64_t i = 0; i < 100; ++i) {
        ASSERT_TRUE(b->send(1, item(i)));
        ASSERT_TRUE(accepted->send(2, item(1000 + i)));
    }
    ASSERT_TRUE(a.events->wait_for_messages(100));
    ASSERT_TRUE(events->wait_for_messages(100));
    EXPECT_EQ(number_of(a.events->messages().back()), 99u);
    EXPECT_EQ(number_of(events->messages().back()), 1099u);
    b->close("done");
    ASSERT_TRUE(a.events->closed.wait());
    EXPECT_EQ(a.events->closes(), lines{"closed by the peer"});
    EXPECT_TRUE(logs.lines_starting("warning ").empty()) << ::testing::PrintToString(logs.lines());
}

TEST_F(netns, a_wrong_secret_from_the_other_host_is_refused_with_one_line) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    server a(io, hosts->a(), std::string("tcp:") + netns_pair::a_address + ":0");
    auto events = std::make_shared<recorder>();
    std::uint16_t port = 0;
    auto b = client_from_b(io, *hosts, a.l.local_address(), wrong_secret, events, port);
    ASSERT_NE(b, nullptr);
    ASSERT_TRUE(events->closed.wait());
    ASSERT_TRUE(a.events->closed.wait());
    EXPECT_EQ(a.events->events().size(), 1u) << "it never opened";
    EXPECT_EQ(events->events().size(), 1u) << "it never opened";
    const std::string from_b = "warning troupe: connection from tcp:" + std::string(netns_pair::b_address) + ":" +
                               std::to_string(port) + " refused: it did not prove the shared secret (";
    const std::string to_a = "warning troupe: connection to " + a.l.local_address().to_string() +
                             " refused: it did not prove the shared secret (";
    const auto warnings = logs.lines_starting("warning ");
    ASSERT_EQ(warnings.size(), 2u) << ::testing::PrintToString(logs.lines());
    EXPECT_EQ(std::count_if(warnings.begin(), warnings.end(), [&](const auto& l) { return l.rfind(from_b, 0) == 0; }),
              1)
        << ::testing::PrintToString(warnings);
    EXPECT_EQ(std::count_if(warnings.begin(), warnings.end(), [&](const auto& l) { return l.rfind(to_a, 0) == 0; }), 1)
        << ::testing::PrintToString(warnings);
}

TEST_F(netns, the_other_host_cannot_reach_this_ones_loopback) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    server a(io, hosts->a(), "tcp:127.0.0.1:0");
    const std::uint16_t port = a.l.local_address().port();
    const auto [from_b, b_port] = connect_from(hosts->b(), "127.0.0.1", port);
    EXPECT_EQ(from_b, -ECONNREFUSED) << "b reached a's loopback";
    const auto [from_a, a_port] = connect_from(hosts->a(), "127.0.0.1", port);
    EXPECT_GE(from_a, 0) << "a cannot reach its own loopback: " << std::strerror(-from_a);
    if (from_a >= 0) {
        ::close(from_a);
    }
    // And this process's own namespace has neither veth address: nothing here routes to them.
    const auto here = run_command({find_ip(), "-o", "addr", "show"});
    EXPECT_EQ(here.output.find(netns_pair::a_address), std::string::npos) << here.output;
    EXPECT_EQ(here.output.find(netns_pair::b_address), std::string::npos) << here.output;
}

TEST(netns_pair, leaves_no_namespace_and_no_process_behind) {
    const auto children = troupe_test::child_count();
    std::string a;
    std::string b;
    {
        netns_pair hosts;
        if (!hosts.why_not().empty()) {
            GTEST_SKIP() << hosts.why_not();
        }
        a = hosts.a();
        b = hosts.b();
        EXPECT_EQ(a, "troupe-test-" + std::to_string(::getpid()) + "-a");
        ASSERT_TRUE(std::filesystem::exists(netns_file(a)));
        ASSERT_TRUE(std::filesystem::exists(netns_file(b)));
        // A thread that joined a sees a's end of the veth pair, and not b's.
        const auto seen = netns_pair::run_in(a, [] {
            std::ifstream devices("/proc/thread-self/net/dev");  // this thread's namespace's interfaces
            return std::string(std::istreambuf_iterator<char>(devices), {});
        });
        EXPECT_NE(seen.find("veth-a:"), std::string::npos) << seen;
        EXPECT_EQ(seen.find("veth-b:"), std::string::npos) << seen;
    }
    EXPECT_FALSE(std::filesystem::exists(netns_file(a)));
    EXPECT_FALSE(std::filesystem::exists(netns_file(b)));
    const auto listed = run_command({find_ip(), "netns", "list"});
    EXPECT_EQ(listed.status, 0);
    EXPECT_EQ(listed.output.find(a), std::string::npos) << listed.output;
    EXPECT_EQ(listed.output.find(b), std::string::npos) << listed.output;
    EXPECT_EQ(troupe_test::child_count(), children) << "every ip process was reaped";
    EXPECT_EQ(troupe_test::zombie_count(), 0u);
}

TEST(netns_pair, removes_what_a_run_that_is_gone_left_behind) {
    if (::geteuid() != 0 || find_ip().empty()) {
        GTEST_SKIP() << "needs root and ip (iproute2)";
    }
    // A pid that no process has now: a crashed run's.
    pid_t gone = 4'000'000;
    while (gone > 1 && !(::kill(gone, 0) != 0 && errno == ESRCH)) {
        --gone;
    }
    const std::string left = std::string(netns_pair::prefix) + std::to_string(gone) + "-a";
    if (run_command({find_ip(), "netns", "add", left}).status != 0) {
        GTEST_SKIP() << "cannot make a network namespace here";
    }
    ASSERT_TRUE(std::filesystem::exists(netns_file(left)));
    {
        netns_pair hosts;
        EXPECT_EQ(hosts.why_not(), "");
        EXPECT_FALSE(std::filesystem::exists(netns_file(left))) << "the leftover is still there";
    }
    (void)run_command({find_ip(), "netns", "del", left});  // in case the check above failed
}

}  // namespace
