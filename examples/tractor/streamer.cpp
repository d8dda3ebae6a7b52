// tractor's "Channels and Contexts": a context function streams without being a generator. It
// takes a troupe::stream_context& first and sends values with ctx.send, at its own pace, from
// as many tasks as it likes (stream_multiple_sources); the caller opens it with
// portal.open_context. Either side may send: here the caller sends the sources to read.

#include <troupe/async/nursery.hpp>
#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/context.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"
#include "processes.hpp"

namespace feeds {
/// Stands in for the seed's web_request(url): the i-th value of a feed.
std::string web_request(const std::string& url, int i) {
    return url + " #" + std::to_string(i);
}

/// Sends `count` values of `url`, `rate` a second.
troupe::task<void> pump(troupe::stream_context& ctx, std::string url, int rate, int count) {
    for (int i = 0; i < count; ++i) {
        std::string val = web_request(url, i);
        co_await ctx.send(std::move(val));  // the same as co_yield in a generator
        co_await troupe::sleep_for(std::chrono::milliseconds(1000 / rate));
    }
}

/// A simple web response streaming server: streams one feed until it is cancelled.
troupe::task<void> streamer(troupe::stream_context& ctx, std::string url, int rate) {
    co_await ctx.started();  // the caller's open_context returns
    co_await pump(ctx, std::move(url), rate, std::numeric_limits<int>::max());
}

/// Streams `count` values from each source the caller sends, all at once, one task a source;
/// returns once the caller has stopped sending sources and every feed is done.
troupe::task<int> stream_multiple_sources(troupe::stream_context& ctx, int rate, int count) {
    co_await ctx.started();
    int sources = 0;
    co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
        while (std::optional<std::string> url = co_await ctx.receive<std::string>()) {
            n.start(pump(ctx, *url, rate, count));
            ++sources;
        }
    });
    co_return sources;
}
}  // namespace feeds
TROUPE_EXPOSE(feeds, streamer);
TROUPE_EXPOSE(feeds, stream_multiple_sources);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        std::vector<std::string> first_five;
        bool cancelled = false;
        std::map<std::string, std::vector<std::string>> by_source;
        int sources = 0;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal server = an.start_actor("server", {.enable = {"feeds"}});

            // One endless feed: read five values, then cancel it.
            auto feed = co_await server.open_context(&feeds::streamer, std::string("http://data.feed.com"), 100);
            for (int i = 0; i < 5; ++i) {
                std::optional<std::string> val = co_await feed.receive<std::string>();
                std::cout << *val << '\n';
                first_five.push_back(*val);
            }
            troupe::future<void> ended = feed.result();
            feed.cancel();
            try {
                co_await ended;
            } catch (const troupe::cancelled&) {
                cancelled = true;
            }

            // Many feeds at once: send the sources, stop sending, read until the callee stops.
            auto many = co_await server.open_context(&feeds::stream_multiple_sources, 200, 4);
            for (std::string url : {"http://a.feed.com", "http://b.feed.com", "http://c.feed.com"}) {
                co_await many.send(std::move(url));
            }
            many.close();
            while (std::optional<std::string> val = co_await many.receive<std::string>()) {
                std::cout << *val << '\n';
                by_source[val->substr(0, val->find(' '))].push_back(*val);
            }
            sources = co_await many.result();

            co_await server.cancel_actor();
        });

        check(first_five.size() == 5 && first_five.back() == "http://data.feed.com #4",
              "an endless context streams its values in order");
        check(cancelled, "cancelling the context ends it: its result is troupe::cancelled");
        check(sources == 3 && by_source.size() == 3, "the callee read the three sources the caller sent");
        bool whole = true;
        for (const auto& [url, values] : by_source) {
            for (std::size_t i = 0; i < values.size(); ++i) {
                whole = whole && values[i] == feeds::web_request(url, static_cast<int>(i));
            }
            whole = whole && values.size() == 4;
        }
        check(whole, "each feed arrived whole and in order, interleaved with the others");
        check(example::no_child_left(), "no child is left");
        return example::exit_status();
    });
}
