#include <troupe/remote/stream.hpp>

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/test_support.hpp"
#include "remote/processes.hpp"

// Streams from generators in child process actors (this executable started again).

namespace numbers {
troupe::generator<int> count(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}
troupe::generator<std::string> words() {
    co_yield std::string("one");
    co_yield std::string("two");
    throw std::runtime_error("out of words");
}
troupe::generator<int> forever() {
    for (int i = 0;; ++i) {
        co_yield i;
    }
}
/// Items the generator `counted` has made in this process (it counts before it yields).
std::atomic<int> made{0};
troupe::generator<int> counted() {
    for (int i = 0;; ++i) {
        made.fetch_add(1);
        co_yield i;
    }
}
int how_many_made() {
    return made.load();
}
}  // namespace numbers
TROUPE_EXPOSE(numbers, count);
TROUPE_EXPOSE(numbers, words);
TROUPE_EXPOSE(numbers, forever);
TROUPE_EXPOSE(numbers, counted);
TROUPE_EXPOSE(numbers, how_many_made);

namespace {

using troupe_test::patience;

class RemoteStream : public troupe_test::process_test {
protected:
    troupe::process_options serving_numbers() {
        troupe::process_options o;
        o.enable = {"numbers"};
        return o;
    }
    /// Streams count(n) through `window`; how many items came in order before the first that
    /// did not (n if all did).
    int count_in_order(troupe::stream_window window, int n) {
        int in_order = 0;
        bool ordered = true;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal p = an.start_actor("producer", serving_numbers());
            auto s = p.open_stream(window, &numbers::count, n);
            while (std::optional<int> v = co_await s.next()) {
                ordered = ordered && *v == in_order;
                in_order += ordered ? 1 : 0;
            }
            co_await p.cancel_actor();
        });
        return in_order;
    }
};

TEST_F(RemoteStream, EveryItemArrivesInOrder) {
    // Many times the window: the producer waits for credit again and again.
    constexpr int n = 10 * static_cast<int>(troupe::default_stream_window) + 7;
    EXPECT_EQ(count_in_order(troupe::stream_window{}, n), n);
}

TEST_F(RemoteStream, AWindowOfOneCarriesEveryItemInOrder) {
    EXPECT_EQ(count_in_order(troupe::stream_window{1}, 300), 300);
}

TEST_F(RemoteStream, TheProducerRunsNoFurtherAheadThanTheWindow) {
    constexpr int window = 8;
    constexpr int taken = 3;
    int made = 0;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("producer", serving_numbers());
        auto s = p.open_stream<int>(troupe::stream_window{window}, "numbers", "counted");
        for (int i = 0; i < taken; ++i) {
            const std::optional<int> v = co_await s.next();
            EXPECT_EQ(v, std::optional<int>(i));
        }
        // The producer makes items until its credit is spent: the window's 8 (the 3 taken have
        // earned none back: credit is granted every half window, 4), plus the one it holds
        // while it waits. Wait until it has made the window's worth, then look again.
        while (made < window) {
            made = co_await p.run(&numbers::how_many_made);
        }
        for (int i = 0; i < 20; ++i) {
            made = co_await p.run(&numbers::how_many_made);
        }
        s.close();
        co_await p.cancel_actor();
    });
    EXPECT_GE(made, window);
    EXPECT_LE(made, window + 1);
}

TEST_F(RemoteStream, AWindowOfNoItemsIsAClearError) {
    std::string what;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("producer", serving_numbers());
        try {
            auto s = p.open_stream(troupe::stream_window{0}, &numbers::count, 3);
        } catch (const troupe::error& e) {
            what = e.what();
        }
        co_await p.cancel_actor();
    });
    EXPECT_EQ(what, "portal.open_stream: a stream's window must be at least 1 item");
}

TEST_F(RemoteStream, TheProducersErrorEndsTheStream) {
    std::vector<std::string> got;
    std::string type;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("talker", serving_numbers());
        auto s = p.open_stream(&numbers::words);
        try {
            while (std::optional<std::string> w = co_await s.next()) {
                got.push_back(*w);
            }
        } catch (const troupe::remote_actor_error& e) {
            type = e.type();
        }
        co_await p.cancel_actor();
    });
    EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
    EXPECT_EQ(type, "std::runtime_error");
}

TEST_F(RemoteStream, ClosingAnEndlessStreamCancelsItsProducer) {
    int last = -1;
    std::string after;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("endless", serving_numbers());
        {
            auto s = p.open_stream(&numbers::forever);
            for (int i = 0; i < 1000; ++i) {
                last = *co_await s.next();
            }
        }  // destroyed: the producer is cancelled
        // The actor still serves calls afterwards.
        auto again = p.open_stream(&numbers::count, 3);
        while (std::optional<int> v = co_await again.next()) {
            after += std::to_string(*v);
        }
        co_await p.cancel_actor();
    });
    EXPECT_EQ(last, 999);
    EXPECT_EQ(after, "012");
}

TEST_F(RemoteStream, KillingTheProducerMidStreamFailsTheConsumerAndTheNursery) {
    bool consumer_told = false;
    try {
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal p = an.start_actor("doomed", serving_numbers());
            auto s = p.open_stream(&numbers::forever);
            co_await s.next();
            troupe_test::kill_process_of(p);
            try {
                for (;;) {
                    std::optional<int> v = co_await s.next();
                    if (!v) {
                        break;
                    }
                }
            } catch (const troupe::actor_dead&) {
                consumer_told = true;  // the connection closed under the stream
            } catch (const troupe::cancelled&) {
                consumer_told = true;  // or the nursery, told of the death first, cancelled the block
            }
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
    EXPECT_TRUE(consumer_told);
}

TEST_F(RemoteStream, ABlockingConsumerIteratesWithRangeFor) {
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("producer", serving_numbers());
        // Hand the portal to a plain thread, which consumes with a range-for.
        int sum = 0;
        std::thread consumer([&] {
            auto s = p.open_stream(&numbers::count, 100);
            for (int v : s) {
                sum += v;
            }
        });
        consumer.join();  // blocks this actor: fine in a test, not in production code
        EXPECT_EQ(sum, 4950);
        co_await p.cancel_actor();
    });
}

}  // namespace

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
