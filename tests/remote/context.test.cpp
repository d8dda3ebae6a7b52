#include <troupe/remote/context.hpp>

#include <troupe/async/nursery.hpp>
#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "core/test_support.hpp"
#include "remote/processes.hpp"

// Bidirectional contexts with child process actors (this executable started again).

namespace svc {
/// Echoes what it receives until the caller stops; returns how many it echoed.
troupe::task<int> echo(troupe::stream_context& ctx, std::string greeting) {
    co_await ctx.started(greeting);
    int n = 0;
    for (;;) {
        std::optional<std::string> s = co_await ctx.receive<std::string>();
        if (!s) {
            break;
        }
        co_await ctx.send(*s + "!");
        ++n;
    }
    co_return n;
}
/// Sends `n` numbers without reading anything, then returns.
troupe::task<void> flood(troupe::stream_context& ctx, int n) {
    co_await ctx.started();
    for (int i = 0; i < n; ++i) {
        co_await ctx.send(i);
    }
    ctx.close();
}
/// Fails after it has started.
troupe::task<int> fail_later(troupe::stream_context& ctx) {
    co_await ctx.started();
    std::optional<int> first = co_await ctx.receive<int>();
    throw std::out_of_range("got " + std::to_string(first.value_or(-1)));
}
/// Sends `n` numbers from `first` on, in order.
troupe::task<void> send_range(troupe::stream_context& ctx, int first, int n) {
    for (int i = first; i < first + n; ++i) {
        co_await ctx.send(i);
    }
}
/// Two tasks of one context send `n` numbers each at once, so both wait for credit.
troupe::task<void> two_senders(troupe::stream_context& ctx, int n) {
    co_await ctx.started();
    co_await troupe::open_nursery([&](troupe::nursery& tasks) -> troupe::task<void> {
        tasks.start(send_range(ctx, 0, n));
        tasks.start(send_range(ctx, n, n));
        co_return;
    });
}
/// Runs until cancelled.
troupe::task<void> linger(troupe::stream_context& ctx) {
    co_await ctx.started();
    co_await troupe::sleep_for(std::chrono::hours(24));
}
}  // namespace svc
TROUPE_EXPOSE(svc, echo);
TROUPE_EXPOSE(svc, flood);
TROUPE_EXPOSE(svc, fail_later);
TROUPE_EXPOSE(svc, two_senders);
TROUPE_EXPOSE(svc, linger);

namespace {

class RemoteContext : public troupe_test::process_test {
protected:
    troupe::process_options serving() {
        troupe::process_options o;
        o.enable = {"svc"};
        return o;
    }
};

TEST_F(RemoteContext, BothSidesSendAndReceive) {
    std::string first;
    std::vector<std::string> echoes;
    int echoed = 0;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("echo", serving());
        auto ctx = co_await p.open_context(&svc::echo, std::string("ready"));
        first = ctx.first<std::string>();
        for (int i = 0; i < 1000; ++i) {  // a ping-pong, many windows long
            co_await ctx.send(std::to_string(i));
            std::optional<std::string> back = co_await ctx.receive<std::string>();
            if (i < 3 && back) {
                echoes.push_back(*back);
            }
        }
        ctx.close();
        echoed = co_await ctx.result();
        co_await p.cancel_actor();
    });
    EXPECT_EQ(first, "ready");
    EXPECT_EQ(echoes, (std::vector<std::string>{"0!", "1!", "2!"}));
    EXPECT_EQ(echoed, 1000);
}

TEST_F(RemoteContext, AFloodStaysWithinTheWindowAndArrivesWhole) {
    constexpr int n = 20 * static_cast<int>(troupe::default_context_window);
    int received = 0;
    bool in_order = true;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("flood", serving());
        auto ctx = co_await p.open_context(&svc::flood, n);
        for (;;) {
            std::optional<int> v = co_await ctx.receive<int>();
            if (!v) {
                break;
            }
            in_order = in_order && *v == received;
            ++received;
        }
        co_await ctx.result();
        co_await p.cancel_actor();
    });
    EXPECT_EQ(received, n);
    EXPECT_TRUE(in_order);
}

TEST_F(RemoteContext, TasksOfOneCalleeSendAtOnce) {
    // Each task runs out of credit; both wait for the caller's grant, and both go on.
    constexpr int n = 4 * static_cast<int>(troupe::default_context_window);
    int received = 0;
    int last_low = -1;
    int last_high = n - 1;
    bool each_in_order = true;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("two", serving());
        auto ctx = co_await p.open_context(&svc::two_senders, n);
        for (;;) {
            std::optional<int> v = co_await ctx.receive<int>();
            if (!v) {
                break;
            }
            int& last = *v < n ? last_low : last_high;
            each_in_order = each_in_order && *v == last + 1;
            last = *v;
            ++received;
        }
        co_await ctx.result();
        co_await p.cancel_actor();
    });
    EXPECT_EQ(received, 2 * n);
    EXPECT_TRUE(each_in_order);
}

TEST_F(RemoteContext, TheCalleesErrorReachesTheCaller) {
    std::string type;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("failing", serving());
        auto ctx = co_await p.open_context(&svc::fail_later);
        co_await ctx.send(7);
        try {
            co_await ctx.result();
        } catch (const troupe::remote_actor_error& e) {
            type = e.type() + ": " + e.message();
        }
        co_await p.cancel_actor();
    });
    EXPECT_EQ(type, "std::out_of_range: got 7");
}

TEST_F(RemoteContext, LeavingTheContextEarlyCancelsTheCallee) {
    bool cancelled = false;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("lingering", serving());
        auto ctx = co_await p.open_context(&svc::linger);
        troupe::future<void> result = ctx.result();
        ctx.cancel();
        try {
            co_await result;
        } catch (const troupe::cancelled&) {
            cancelled = true;
        }
        co_await p.cancel_actor();
    });
    EXPECT_TRUE(cancelled);
}

}  // namespace

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
