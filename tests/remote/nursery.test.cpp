#include <troupe/remote/actor_nursery.hpp>

#include <troupe/async/cancel_scope.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/test_support.hpp"
#include "remote/processes.hpp"

// These tests start this very executable again as child process actors: main is troupe::run,
// and the functions the children run are exposed below.

namespace cellar {
std::string open_door(int times) {
    return "the door opened " + std::to_string(times) + " times";
}
troupe::task<int> count_bottles(std::vector<int> shelves) {
    int total = 0;
    for (int n : shelves) {
        total += n;
    }
    co_return total;
}
int refuse(std::string why) {
    throw std::invalid_argument("no: " + why);
}
/// Never returns of its own accord: waits until cancelled.
troupe::task<void> wait_forever() {
    co_await troupe::sleep_for(std::chrono::hours(24));
}
/// Blocks its thread without an await, so it cannot see a cancel: only signals end it.
void block() {
    std::this_thread::sleep_for(std::chrono::hours(24));
}
/// As block(), but ignores SIGTERM too: only SIGKILL ends it.
void block_ignoring_sigterm() {
    std::signal(SIGTERM, SIG_IGN);
    std::this_thread::sleep_for(std::chrono::hours(24));
}
std::string read_state(std::string key) {
    return troupe::statespace::current().get<std::string>(key);
}
/// Opens a nursery of its own in the child and asks a grandchild.
troupe::task<std::string> ask_grandchild(int times) {
    std::string answer;
    co_await troupe::open_actor_nursery([&](troupe::actor_nursery& an) -> troupe::task<void> {
        auto grandchild = an.run_in_actor("grandchild", &cellar::open_door, times);
        answer = co_await grandchild.result();
    });
    co_return "grandchild says: " + answer;
}
}  // namespace cellar
TROUPE_EXPOSE(cellar, open_door);
TROUPE_EXPOSE(cellar, count_bottles);
TROUPE_EXPOSE(cellar, refuse);
TROUPE_EXPOSE(cellar, wait_forever);
TROUPE_EXPOSE(cellar, block);
TROUPE_EXPOSE(cellar, block_ignoring_sigterm);
TROUPE_EXPOSE(cellar, read_state);
TROUPE_EXPOSE(cellar, ask_grandchild);

namespace {

using troupe_test::patience;

using ActorNursery = troupe_test::process_test;

TEST_F(ActorNursery, RunInActorGivesTheResult) {
    std::string answer;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        auto donny = an.run_in_actor("donny", &cellar::open_door, 3);
        answer = co_await donny.result();
    });
    EXPECT_EQ(answer, "the door opened 3 times");
}

TEST_F(ActorNursery, ACoroutineRunsInTheChild) {
    int total = 0;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        auto p = an.run_in_actor("counter", &cellar::count_bottles, std::vector<int>{3, 4, 5});
        total = co_await p.result();
    });
    EXPECT_EQ(total, 12);
}

TEST_F(ActorNursery, AChildsExceptionReachesTheParentAsRemoteActorError) {
    try {
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            an.run_in_actor("grumpy", &cellar::refuse, std::string("too early"));
            co_return;
        });
        FAIL() << "the nursery did not throw";
    } catch (const troupe::error_group& g) {
        ASSERT_EQ(g.errors().size(), 1U);
        try {
            std::rethrow_exception(g.errors().front());
        } catch (const troupe::remote_actor_error& e) {
            EXPECT_EQ(e.type(), "std::invalid_argument");
            EXPECT_EQ(e.message(), "no: too early");
            EXPECT_EQ(e.actor().rfind("grumpy#", 0), 0U) << e.actor();
            // The first frame is the function that threw (the test executables are linked with
            // -rdynamic, so their functions have names).
            EXPECT_EQ(e.backtrace().rfind("#0 cellar::refuse(", 0), 0U) << e.backtrace();
        }
    }
}

TEST_F(ActorNursery, ADaemonServesCallsUntilCancelled) {
    std::string by_pointer;
    std::string by_name;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::process_options options;
        options.enable = {"cellar"};
        troupe::portal gretchen = an.start_actor("gretchen", options);
        by_pointer = co_await gretchen.run(&cellar::open_door, 1);
        by_name = co_await gretchen.run<std::string>("cellar", "open_door", 2);
        co_await gretchen.cancel_actor();
    });
    EXPECT_EQ(by_pointer, "the door opened 1 times");
    EXPECT_EQ(by_name, "the door opened 2 times");
}

TEST_F(ActorNursery, OnlyExposedFunctionsOfEnabledNamespacesAreServed) {
    std::vector<std::string> types;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal closed = an.start_actor("closed");  // enables nothing
        troupe::process_options options;
        options.enable = {"cellar"};
        troupe::portal open = an.start_actor("open", options);
        for (auto* p : {&closed, &open}) {
            try {
                co_await p->run<std::string>("cellar", "no_such_function", 1);
            } catch (const troupe::remote_actor_error& e) {
                types.push_back(e.type());
            }
        }
        try {
            co_await closed.run(&cellar::open_door, 1);
        } catch (const troupe::remote_actor_error& e) {
            types.push_back(e.type());
        }
        an.cancel();
    });
    EXPECT_EQ(types, (std::vector<std::string>{"troupe::not_exposed", "troupe::not_exposed", "troupe::not_exposed"}));
}

TEST_F(ActorNursery, BadArgumentsAreAnsweredWithAnError) {
    std::string type;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::process_options options;
        options.enable = {"cellar"};
        troupe::portal p = an.start_actor("strict", options);
        try {
            co_await p.run<std::string>("cellar", "open_door", std::string("three"));
        } catch (const troupe::remote_actor_error& e) {
            type = e.type();
        }
        an.cancel();
    });
    EXPECT_EQ(type, "troupe::wire::decode_error");
}

TEST_F(ActorNursery, TheFirstErrorCancelsTheSiblings) {
    try {
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::process_options options;
            options.enable = {"cellar"};
            an.start_actor("daemon", options);
            an.run_in_actor("waiter", &cellar::wait_forever);
            an.run_in_actor("grumpy", &cellar::refuse, std::string("now"));
            co_return;
        });
        FAIL() << "the nursery did not throw";
    } catch (const troupe::error_group& g) {
        ASSERT_EQ(g.errors().size(), 1U);
        EXPECT_THROW(std::rethrow_exception(g.errors().front()), troupe::remote_actor_error);
    }
}

TEST_F(ActorNursery, ACancelThatIsNeverAcknowledgedEscalatesToSigterm) {
    troupe::actor_nursery_options quick;
    quick.cancel_timeout = std::chrono::milliseconds(50);
    quick.terminate_timeout = patience();
    const auto began = std::chrono::steady_clock::now();
    troupe::open_actor_nursery(
        sys,
        [&](troupe::actor_nursery& an) -> troupe::task<void> {
            an.run_in_actor("stuck", &cellar::block);
            an.cancel();
            co_return;
        },
        quick);
    EXPECT_LT(std::chrono::steady_clock::now() - began, patience());
}

TEST_F(ActorNursery, AChildIgnoringSigtermIsKilled) {
    troupe::actor_nursery_options quick;
    quick.cancel_timeout = std::chrono::milliseconds(50);
    quick.terminate_timeout = std::chrono::milliseconds(50);
    troupe::open_actor_nursery(
        sys,
        [&](troupe::actor_nursery& an) -> troupe::task<void> {
            an.run_in_actor("stubborn", &cellar::block_ignoring_sigterm);
            an.cancel();
            co_return;
        },
        quick);
}

TEST_F(ActorNursery, ADaemonKilledFromOutsideIsAnErrorOfTheNursery) {
    try {
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::process_options options;
            options.enable = {"cellar"};
            troupe::portal victim = an.start_actor("victim", options);
            an.run_in_actor("sibling", &cellar::wait_forever);
            co_await victim.run(&cellar::open_door, 1);  // it is up
            troupe_test::kill_process_of(victim);
        });
        FAIL() << "the nursery did not throw";
    } catch (const troupe::error_group& g) {
        ASSERT_EQ(g.errors().size(), 1U);
        try {
            std::rethrow_exception(g.errors().front());
        } catch (const troupe::process_error& e) {
            EXPECT_NE(std::string(e.what()).find("killed by SIGKILL"), std::string::npos) << e.what();
        }
    }
}

TEST_F(ActorNursery, TheStatespaceReachesTheChild) {
    std::string value;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::process_options options;
        options.state.set("doggy", std::string("woof"));
        auto p = an.run_in_actor("reader", options, &cellar::read_state, std::string("doggy"));
        value = co_await p.result();
    });
    EXPECT_EQ(value, "woof");
}

TEST_F(ActorNursery, NurseriesNestAcrossProcesses) {
    std::string answer;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        auto p = an.run_in_actor("middle", &cellar::ask_grandchild, 7);
        answer = co_await p.result();
    });
    EXPECT_EQ(answer, "grandchild says: the door opened 7 times");
}

TEST_F(ActorNursery, ADeadlineAboveCancelsTheSubactors) {
    struct runner : troupe::actor {
        troupe::task<bool> handle(int) {
            co_return co_await troupe::move_on_after(
                std::chrono::milliseconds(100),
                troupe::open_actor_nursery([](troupe::actor_nursery& an) -> troupe::task<void> {
                    auto p = an.run_in_actor("slow", &cellar::wait_forever);
                    co_await p.result();
                }));
        }
    };
    auto r = sys.spawn<runner>();
    EXPECT_FALSE(r.ask(1).get(patience()));
}

TEST_F(ActorNursery, AHundredSubactorsComeAndGo) {
    for (int round = 0; round < 10; ++round) {
        int sum = 0;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            std::vector<troupe::result_portal<int>> portals;
            for (int i = 0; i < 10; ++i) {
                portals.push_back(an.run_in_actor("worker", &cellar::count_bottles, std::vector<int>{i}));
            }
            for (auto& p : portals) {
                sum += co_await p.result();
            }
        });
        ASSERT_EQ(sum, 45);
    }
}

}  // namespace

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
