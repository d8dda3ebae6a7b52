// Faust's worker: the adding agent of the "Actors" guide as a program whose command line is the
// app's (Faust's `faust -A actor worker -l info`, `faust -A actor send adding '{"a":4,"b":4}'`):
//
//   example_faust_worker worker -l info             # runs the agent until Ctrl-C / SIGTERM
//   example_faust_worker send adding '{"a":4,"b":4}'
//   example_faust_worker send adding --file adds.jsonl
//   example_faust_worker agents
//   example_faust_worker topics
//
// On the embedded broker nothing outside this process reaches the topic, so `send` runs the
// agent while it sends, until the agent has finished what was sent. CTest runs the `send`.

#include <troupe/streams/app.hpp>

#include <iostream>
#include <optional>
#include <string>

struct Add {
    int a = 0;
    int b = 0;
};
TROUPE_RECORD(Add, a, b);

namespace streams = troupe::streams;

int main(int argc, char** argv) {
    streams::app app{"actor-worker", {.broker = "memory://", .topic_partitions = 2}};
    auto& topic = app.topic<std::string, Add>("adding");
    app.agent("adding", topic, [](streams::stream<std::string, Add>& s) -> troupe::generator<int> {
        while (std::optional<Add> value = co_await s.next()) {
            std::cout << value->a << " + " << value->b << " = " << value->a + value->b << std::endl;
            co_yield value->a + value->b;
        }
    });
    return app.main(argc, argv);
}
