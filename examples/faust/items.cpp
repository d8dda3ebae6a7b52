// Faust's Streams guide, "items() -- Iterate over keys and values": each value with its key; and
// items() as the last of a chain of operators, after through() and group_by().

#include <troupe/streams/app.hpp>

#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../check.hpp"
#include "../collected.hpp"

struct M {
    std::string id;
    int n = 0;
};
TROUPE_RECORD(M, id, n);

namespace streams = troupe::streams;
using example::check;

int main() {
    streams::app app{"items", {.broker = "memory://items", .topic_partitions = 1}};
    auto& topic = app.topic<std::string, M>("ms");
    auto& foo = app.topic<std::string, M>("foo");
    using m_stream = streams::stream<std::string, M>;

    example::collected<std::pair<std::string, int>> keyed(3);
    app.agent("process", topic, [&](m_stream& stream) -> troupe::task<void> {
        auto items = stream.items();
        while (std::optional<std::pair<std::string, M>> kv = co_await items.next()) {
            std::cout << kv->first << " -> " << kv->second.n << '\n';
            keyed.add({kv->first, kv->second.n});
        }
    });

    // items() changes what is iterated from a stream to a generator, so it comes last.
    example::collected<std::pair<std::string, int>> regrouped(3);
    app.agent("regroup", topic, [&](m_stream& stream) -> troupe::task<void> {
        auto items = stream.through(foo).group_by(&M::id).items();
        while (std::optional<std::pair<std::string, M>> kv = co_await items.next()) {
            regrouped.add({kv->first, kv->second.n});
        }
    });

    app.start();
    // The records' keys are the senders'; group_by re-keys them by M::id.
    topic.send(M{"x", 1}, {.key = "sender-a"}).get();
    topic.send(M{"y", 2}, {.key = "sender-b"}).get();
    topic.send(M{"x", 3}, {.key = "sender-a"}).get();
    const auto got = keyed.get();
    const auto got_regrouped = regrouped.get();
    app.stop();

    using seen = std::vector<std::pair<std::string, int>>;
    check(got == seen{{"sender-a", 1}, {"sender-b", 2}, {"sender-a", 3}}, "items() gave each value with its key");
    check(got_regrouped == seen{{"x", 1}, {"y", 2}, {"x", 3}},
          "through(foo).group_by(&M::id).items() gave them with their new keys");
    return example::exit_status();
}
