// A process actor whose parent is killed (SIGKILL: no chance to cancel anything) dies with it:
// a whole tree's grandchildren are gone within a second of their parent's death.

#include <troupe/remote/actor_nursery.hpp>

#include <troupe/remote/context.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "core/test_support.hpp"
#include "remote/processes.hpp"

namespace tree {
troupe::task<void> idle() {
    co_await troupe::sleep_for(std::chrono::hours(24));
}
std::int64_t pid() {
    return ::getpid();
}
/// Starts two grandchildren, sends their pids to the caller, then holds them until killed.
troupe::task<void> hold_grandchildren(troupe::stream_context& ctx) {
    co_await ctx.started();
    co_await troupe::open_actor_nursery([&](troupe::actor_nursery& an) -> troupe::task<void> {
        for (int i = 0; i < 2; ++i) {
            troupe::portal g = an.start_actor("grandchild", {.enable = {"tree"}});
            std::int64_t p = co_await g.run(&tree::pid);
            co_await ctx.send(p);
        }
        co_await idle();
    });
}
}  // namespace tree
TROUPE_EXPOSE(tree, idle);
TROUPE_EXPOSE(tree, pid);
TROUPE_EXPOSE(tree, hold_grandchildren);

namespace {

/// True if the process `pid` (this process's child) ends within `d`; it is reaped then.
bool ends_within(pid_t pid, std::chrono::milliseconds d) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
        return false;
    }
    pollfd p{fd, POLLIN, 0};
    const bool ended = ::poll(&p, 1, static_cast<int>(d.count())) == 1;
    if (ended) {
        siginfo_t info{};
        ::waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED);
    }
    ::close(fd);
    return ended;
}

TEST(Orphans, GrandchildrenDieWithinASecondOfTheirParentsSigkill) {
    // Orphans come to this process (not to init), so that the test can see them end and reap them.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    const std::size_t children_before = troupe_test::child_count();
    std::vector<pid_t> grandchildren;
    troupe::system sys{troupe_test::small_system()};
    try {
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal middle = an.start_actor("middle", {.enable = {"tree"}});
            auto ctx = co_await middle.open_context(&tree::hold_grandchildren);
            for (int i = 0; i < 2; ++i) {
                std::optional<std::int64_t> p = co_await ctx.receive<std::int64_t>();
                grandchildren.push_back(static_cast<pid_t>(*p));
            }
            troupe_test::kill_process_of(middle);
            co_await ctx.result();  // fails: the middle actor is gone
        });
        ADD_FAILURE() << "the nursery did not throw";
    } catch (const troupe::error_group&) {
        // The middle actor ended on its own (killed): an error of the nursery.
    }
    ASSERT_EQ(grandchildren.size(), 2U);
    for (pid_t g : grandchildren) {
        // A second, stretched by TROUPE_TEST_TIMEFACTOR under the sanitizers.
        EXPECT_TRUE(ends_within(g, troupe_test::scaled(std::chrono::milliseconds(1000))))
            << "grandchild " << g << " outlived its parent";
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    EXPECT_EQ(troupe_test::child_count(), children_before);
}

}  // namespace

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
