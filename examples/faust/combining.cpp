// Faust's Streams guide, "Combining streams": one agent reads two topics of the same types as one
// stream, and values arrive from both; and two agents process the topics independently.

#include <troupe/streams/app.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"
#include "../collected.hpp"

namespace streams = troupe::streams;
using example::check;

int main() {
    streams::app app{"combining", {.broker = "memory://combining", .topic_partitions = 2}};
    auto& topic1 = app.topic<std::string, int>("topic1");
    auto& topic2 = app.topic<std::string, int>("topic2");
    using int_stream = streams::stream<std::string, int>;

    example::by_topic<int> combined(10);
    app.agent("process_both", topic1 & topic2, [&](int_stream& stream) -> troupe::task<void> {
        while (std::optional<int> value = co_await stream.next()) {
            combined.add(stream.event()->topic, *value);
        }
    });

    // Processed independently: an agent for each.
    example::by_topic<int> independent(10);
    auto process = [&](int_stream& stream) -> troupe::task<void> {
        while (std::optional<int> value = co_await stream.next()) {
            independent.add(stream.event()->topic, *value);
        }
    };
    app.agent("process_stream1", topic1, process);
    app.agent("process_stream2", topic2, process);

    app.start();
    for (int i = 0; i < 5; ++i) {
        topic1.send(i).get();
        topic2.send(100 + i).get();
    }
    auto both = combined.get();
    auto each = independent.get();
    app.stop();

    const std::map<std::string, std::vector<int>> expected{{"topic1", {0, 1, 2, 3, 4}},
                                                           {"topic2", {100, 101, 102, 103, 104}}};
    for (auto* got : {&both, &each}) {
        for (auto& [topic, values] : *got) {
            std::sort(values.begin(), values.end());  // each partition's in order, the two interleaved
        }
    }
    std::cout << "process_both got " << both["topic1"].size() << " values of topic1 and " << both["topic2"].size()
              << " of topic2\n";
    check(both == expected, "the combined stream gave the values of both topics");
    check(each == expected, "the two independent agents gave the same, one topic each");
    return example::exit_status();
}
