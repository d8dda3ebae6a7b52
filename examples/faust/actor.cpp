// Faust's "Actors" guide, first example (examples/actor.py and examples/send_to_actor.py): an
// agent that adds numbers, and a program that asks it. Faust runs them as a worker and a
// second program; here both are in one process, on the embedded broker.

#include <troupe/streams/app.hpp>

#include <chrono>
#include <iostream>
#include <optional>

#include "../check.hpp"

// The model describes the data sent to our agent: a JSON object with two integer fields,
// a and b.
struct Add {
    int a = 0;
    int b = 0;
};
TROUPE_RECORD(Add, a, b);

namespace streams = troupe::streams;
using example::check;

// Here we receive Add objects, add a + b.
troupe::generator<int> adding(streams::stream<std::string, Add>& stream) {
    while (std::optional<Add> value = co_await stream.next()) {
        co_yield value->a + value->b;
    }
}

int main() {
    // Next, we create the app object that configures our environment.
    streams::app app{"actor-example", {.broker = "memory://"}};
    // The topic used by our agent is named 'adding', and its values are Add records.
    auto& topic = app.topic<std::string, Add>("adding");
    auto& agent = app.agent("adding", topic, adding);
    app.start();

    // send_to_actor.py: ask wraps the value with the return address (the app's reply topic and
    // a correlation id); the agent replies with what it yields for it.
    const int answer = agent.ask(Add{4, 4}, std::chrono::seconds(10)).get();
    std::cout << answer << '\n';
    check(answer == 8, "the agent answered the ask: 4 + 4 = 8");

    // Stopping commits what the agent finished: its group ("actor-example-adding") has read one
    // value.
    app.stop();
    std::uint64_t committed = 0;
    for (std::uint32_t p = 0; p < topic.partitions(); ++p) {
        committed += app.broker().committed(agent.group(), {"adding", p}).value_or(0);
    }
    check(committed == 1, "stopping committed the one value the agent finished");
    return example::exit_status();
}
