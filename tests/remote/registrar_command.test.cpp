// `troupe registrar`: a standalone registrar that process actors started on their own join.

#include <troupe/remote/discovery.hpp>

#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <future>
#include <string>

#include "core/test_support.hpp"
#include "remote/process.hpp"
#include "remote/processes.hpp"
#include "remote/runtime.hpp"
#include "remote/standalone.hpp"

namespace {

using troupe::remote::detail::child_process;
using troupe::remote::detail::process_service;
using troupe::remote::detail::spawn_spec;
using troupe_test::patience;

/// Starts `troupe registrar` with `args`; its address comes back through a pipe.
std::shared_ptr<child_process> start_registrar(troupe::system& sys, std::vector<std::string> args,
                                               std::string& address) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    spawn_spec spec;
    spec.executable = TROUPE_CLI;
    spec.args = {"registrar", "--ready-fd", "3"};
    spec.args.insert(spec.args.end(), args.begin(), args.end());
    spec.inherit_fd = fds[1];
    auto p = sys.service<process_service>().spawn(spec);
    ::close(fds[1]);
    address = troupe_test::read_line(fds[0]);
    ::close(fds[0]);
    return p;
}

TEST(RegistrarCommand, ProcessesStartedOnTheirOwnFindEachOtherThroughIt) {
    const std::size_t children_before = troupe_test::child_count();
    troupe::system tools{troupe_test::small_system()};  // only starts the processes
    std::string address;
    auto registrar = start_registrar(tools, {}, address);
    ASSERT_EQ(address.rfind("unix:", 0), 0U) << address;

    // A process actor started by hand joins it ...
    spawn_spec spec;
    spec.executable = "/proc/self/exe";
    spec.args = troupe_test::standalone_args(address);
    auto standalone = tools.service<process_service>().spawn(spec);

    // ... and so does this one, which finds the first by name.
    troupe::remote::detail::settings().registrar = address;
    std::string answer;
    {
        troupe::system sys{troupe_test::small_system()};
        troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
            troupe::portal p = co_await troupe::wait_for_actor("lone");
            answer = co_await p.run(&lone::hi);
            co_await p.run(&lone::quit);
        });
    }
    troupe::remote::detail::settings().registrar.clear();
    EXPECT_EQ(answer, "Hi my name is lone");
    ASSERT_TRUE(standalone->wait_for(patience()));
    EXPECT_TRUE(standalone->status()->success()) << standalone->status()->describe();

    registrar->terminate();
    ASSERT_TRUE(registrar->wait_for(patience()));
    EXPECT_TRUE(registrar->status()->success()) << registrar->status()->describe();
    EXPECT_EQ(troupe_test::child_count(), children_before);
}

TEST(RegistrarCommand, ABadAddressIsAClearError) {
    troupe::system tools{troupe_test::small_system()};
    std::string address;
    auto registrar = start_registrar(tools, {"--listen", "nowhere"}, address);
    ASSERT_TRUE(registrar->wait_for(patience()));
    EXPECT_EQ(address, "");
    EXPECT_EQ(registrar->status()->code, 1);
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
