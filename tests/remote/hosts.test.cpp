// Two hosts on one machine (network namespaces joined by a veth pair): a registrar on host a
// (`troupe registrar` over TCP with the shared secret), a standalone daemon on host b that
// joins it, and a root on host a that finds the daemon by name and calls it across the link.
// A root with the wrong secret is refused, with one log line.

#include <troupe/remote/discovery.hpp>

#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "core/test_support.hpp"
#include "remote/netns.hpp"
#include "remote/process.hpp"
#include "remote/processes.hpp"
#include "remote/runtime.hpp"
#include "remote/standalone.hpp"

namespace {

using troupe::remote::detail::child_process;
using troupe::remote::detail::process_service;
using troupe::remote::detail::spawn_spec;
using troupe_test::patience;

constexpr const char* right_secret = "correct horse battery staple";
constexpr const char* wrong_secret = "incorrect horse battery staple";

/// A system whose threads live in network namespace `ns`: its I/O thread's sockets, and the
/// processes it starts, are on that host.
std::unique_ptr<troupe::system> system_on(const std::string& ns) {
    return remote_test::netns_pair::run_in(ns, [] {
        auto sys = std::make_unique<troupe::system>(troupe_test::small_system());
        (void)sys->service<process_service>();  // its I/O thread starts here, in `ns`
        return sys;
    });
}

class TwoHosts : public troupe_test::process_test {
protected:
    void SetUp() override {
        process_test::SetUp();
        if (!hosts.why_not().empty()) {
            GTEST_SKIP() << hosts.why_not();
        }
        host_a = system_on(hosts.a());
        host_b = system_on(hosts.b());
        // The registrar on host a, on TCP, with the secret; its address comes back on a pipe.
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        spawn_spec spec;
        spec.executable = TROUPE_CLI;
        spec.args = {"registrar", "--listen", std::string("tcp:") + remote_test::netns_pair::a_address + ":0",
                     "--ready-fd", "3"};
        spec.env = {std::string("TROUPE_SECRET=") + right_secret};
        spec.inherit_fd = fds[1];
        registrar = host_a->service<process_service>().spawn(spec);
        ::close(fds[1]);
        registrar_address = troupe_test::read_line(fds[0]);
        ::close(fds[0]);
        ASSERT_EQ(registrar_address.rfind("tcp:10.213.0.1:", 0), 0U) << registrar_address;
    }
    void TearDown() override {
        if (registrar) {
            registrar->terminate();
            EXPECT_TRUE(registrar->wait_for(patience()));
        }
        host_a.reset();
        host_b.reset();
        troupe::remote::detail::settings().registrar.clear();
        ::unsetenv("TROUPE_SECRET");
        process_test::TearDown();
    }

    /// Starts the standalone daemon "lone" on host b, joining the registrar with `secret`.
    std::shared_ptr<child_process> start_daemon_on_b(const char* secret) {
        spawn_spec spec;
        spec.executable = "/proc/self/exe";
        spec.args = troupe_test::standalone_args(registrar_address,
                                                 std::string("tcp:") + remote_test::netns_pair::b_address + ":0");
        spec.env = {std::string("TROUPE_SECRET=") + secret};
        return host_b->service<process_service>().spawn(spec);
    }

    remote_test::netns_pair hosts;
    std::unique_ptr<troupe::system> host_a;
    std::unique_ptr<troupe::system> host_b;
    std::shared_ptr<child_process> registrar;
    std::string registrar_address;
};

TEST_F(TwoHosts, ARootOnOneHostFindsADaemonOnTheOtherThroughTheRegistrar) {
    auto daemon = start_daemon_on_b(right_secret);
    // This process joins the registrar too, from host a, with the secret.
    ::setenv("TROUPE_SECRET", right_secret, 1);
    troupe::remote::detail::settings().registrar = registrar_address;
    std::string answer;
    std::string where;
    {
        auto root = system_on(hosts.a());
        troupe::open_nursery(*root, [&](troupe::nursery&) -> troupe::task<void> {
            troupe::portal lone = co_await troupe::wait_for_actor("lone");
            std::optional<troupe::actor_entry> entry = co_await troupe::query_actor("lone");
            where = entry ? entry->address : std::string();
            answer = co_await lone.run(&lone::hi);
            co_await lone.run(&lone::quit);
        });
    }
    EXPECT_EQ(where.rfind("tcp:10.213.0.2:", 0), 0U) << where;  // on host b
    EXPECT_EQ(answer, "Hi my name is lone");
    ASSERT_TRUE(daemon->wait_for(patience()));
    EXPECT_TRUE(daemon->status()->success()) << daemon->status()->describe();
}

TEST_F(TwoHosts, AWrongSecretIsRefusedWithOneLine) {
    troupe_test::log_capture logs;
    ::setenv("TROUPE_SECRET", wrong_secret, 1);
    troupe::remote::detail::settings().registrar = registrar_address;
    bool refused = false;
    {
        auto root = system_on(hosts.a());
        troupe::open_nursery(*root, [&](troupe::nursery&) -> troupe::task<void> {
            try {
                co_await troupe::query_actor("anyone");
            } catch (const troupe::error&) {
                refused = true;  // the connection closed before the call could be answered
            }
        });
    }
    EXPECT_TRUE(refused);
    const auto lines = logs.lines_starting("warning ");
    ASSERT_EQ(lines.size(), 1U) << ::testing::PrintToString(logs.lines());
    EXPECT_NE(lines[0].find("refused"), std::string::npos) << lines[0];
}

}  // namespace

int main(int argc, char** argv) {
    if (std::optional<int> code = troupe_test::run_standalone(argc, argv)) {
        return *code;
    }
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
