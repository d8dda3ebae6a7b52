// Faust's channels (the "Streams" guide reads from "a channel/topic"): a topic of the app's
// process only. Values sent to it are not encoded and never reach the broker; every agent of
// the channel gets every one. Here a channel of clicks feeds two agents, and one of them
// forwards what it counts to a topic, where the values are encoded as the topic says.

#include <troupe/streams/app.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"
#include "../collected.hpp"

struct Click {
    std::string page;
    int user = 0;
};
TROUPE_RECORD(Click, page, user);

namespace streams = troupe::streams;
using example::check;

int main() {
    streams::app app{"channels-example", {.broker = "memory://"}};
    auto& clicks = app.channel<std::string, Click>();  // "channels-example-channel-1", in the process
    auto& pages = app.topic<std::string, Click>("pages");

    example::collected<std::string> logged(3);
    example::collected<std::string> stored(3);
    app.agent("log", clicks, [&](streams::stream<std::string, Click>& s) -> troupe::task<void> {
        while (std::optional<Click> c = co_await s.next()) {
            logged.add(c->page);  // the object as sent: nothing was encoded on the way
        }
    });
    app.agent("store", clicks, [&](streams::stream<std::string, Click>& s) -> troupe::task<void> {
        auto& on_topic = s.through(pages);  // from the channel to the broker: encoded as JSON there
        while (std::optional<Click> c = co_await on_topic.next()) {
            stored.add(c->page);
        }
    });
    app.start();
    for (const char* page : {"/", "/docs", "/pricing"}) {
        clicks.send(Click{page, 7}).get();
    }
    check(logged.get() == std::vector<std::string>{"/", "/docs", "/pricing"}, "the agent 'log' got every click");
    check(stored.get().size() == 3, "so did 'store', through the topic 'pages'");
    app.stop();

    std::uint64_t on_broker = 0;
    for (std::uint32_t p = 0; p < pages.partitions(); ++p) {
        on_broker += app.broker().end_offset({"pages", p});
    }
    std::cout << "clicks on the broker's topic 'pages': " << on_broker << '\n';
    check(on_broker == 3, "the topic holds the three clicks; the channel's stayed in the process");
    check(!app.broker().partitions(clicks.name()), "the broker has no topic of the channel's name");
    return example::exit_status();
}
