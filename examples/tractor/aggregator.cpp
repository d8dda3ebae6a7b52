// tractor's "A full fledged streaming service": four process actors. Two streamers yield the
// same values; an aggregator starts them, reads both streams at once, and sends its parent each
// value only once; the parent (main) collects them. The aggregator is a context function (a
// generator cannot yield from inside a nursery's tasks): it ctx.sends what it finds.

#include <troupe/async/nursery.hpp>
#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/context.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <deque>
#include <iostream>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../check.hpp"
#include "processes.hpp"

namespace service {

/// The first two actors, streamer_1 and streamer_2.
troupe::generator<int> stream_data(int seed) {
    for (int i = 0; i < seed; ++i) {
        co_yield i;
    }
}

/// The seed's memory channel, cut down to what the aggregator needs: its pulling tasks push,
/// its sending loop takes, in order. All are tasks of one actor, so nothing here needs a lock.
class channel {
public:
    explicit channel(int writers) : writers_(writers) {}
    void push(int value) {
        items_.push_back(value);
        wake();
    }
    /// One writer has pushed everything.
    void writer_done() {
        --writers_;
        wake();
    }
    /// The next value, or nullopt once every writer is done and every value taken.
    troupe::task<std::optional<int>> pop() {
        while (items_.empty() && writers_ > 0) {
            troupe::future<void> more = waiting_.emplace().get_future();
            co_await more;
        }
        std::optional<int> value;
        if (!items_.empty()) {
            value = items_.front();
            items_.pop_front();
        }
        co_return value;
    }

private:
    void wake() {
        if (waiting_) {
            troupe::promise<void> reader = std::move(*waiting_);
            waiting_.reset();
            reader.set_value();
        }
    }
    std::deque<int> items_;
    int writers_;
    std::optional<troupe::promise<void>> waiting_;
};

/// Reads one streamer to its end, keeping the values not seen before.
troupe::task<void> pull(troupe::portal streamer, int seed, std::set<int>& seen, channel& unique) {
    auto values = streamer.open_stream(&stream_data, seed);
    while (std::optional<int> value = co_await values.next()) {
        if (seen.insert(*value).second) {
            unique.push(*value);
        }
    }
    std::cout << "FINISHED ITERATING " << streamer.name() << '\n';
    unique.writer_done();
}

/// The third actor, the aggregator: makes sure the two streams match, but sends its parent a
/// single set of values.
troupe::task<void> aggregate(troupe::stream_context& ctx, int seed) {
    co_await ctx.started();
    co_await troupe::open_actor_nursery([&](troupe::actor_nursery& an) -> troupe::task<void> {
        std::set<int> seen;
        channel unique(2);
        // Two tasks pull the streams into the channel; this one sends what comes out of it.
        co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
            for (int i = 1; i <= 2; ++i) {
                troupe::portal streamer = an.start_actor("streamer_" + std::to_string(i), {.enable = {"service"}});
                n.start(pull(streamer, seed, seen, unique));
            }
            while (std::optional<int> value = co_await unique.pop()) {
                const int up = *value;
                co_await ctx.send(up);  // upwards to the parent, within the credit it grants
            }
            std::cout << "FINISHED ITERATING in aggregator\n";
        });
        an.cancel();  // the streamers are daemons
        std::cout << "WAITING on the actor nursery to finish\n";
    });
    std::cout << "AGGREGATOR COMPLETE!\n";
}

}  // namespace service
TROUPE_EXPOSE(service, stream_data);
TROUPE_EXPOSE(service, aggregate);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        const int seed = 1000;
        std::vector<int> result_stream;
        using clock = std::chrono::steady_clock;
        const clock::time_point pre_start = clock::now();
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal aggregator = an.start_actor("aggregator", {.enable = {"service"}});
            auto stream = co_await aggregator.open_context(&service::aggregate, seed);
            const clock::time_point start = clock::now();
            while (std::optional<int> value = co_await stream.receive<int>()) {
                result_stream.push_back(*value);
            }
            co_await stream.result();
            const auto ms = [](clock::duration d) {
                return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
            };
            std::cout << "STREAM TIME = " << ms(clock::now() - start) << " ms\n";
            std::cout << "STREAM + SPAWN TIME = " << ms(clock::now() - pre_start) << " ms\n";
            co_await aggregator.cancel_actor();
        });

        std::vector<int> expected(seed);
        std::iota(expected.begin(), expected.end(), 0);
        check(result_stream == expected, "the parent got 0..999, each once, in order");
        check(example::no_child_left(), "all four processes have ended");
        return example::exit_status();
    });
}
