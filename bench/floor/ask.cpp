// bench_floor's ask: main sends a request to a server thread and waits for the reply, one round
// trip at a time; once with both threads spinning on their queues, once with both sleeping on
// a futex whenever their queue is empty.

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "../common/workloads.hpp"
#include "futex_inbox.hpp"
#include "mpsc_queue.hpp"
#include "scenarios.hpp"

namespace bench::floor_side {

namespace {

/// Times `n` round trips main -> server thread -> main; reports them with `prefix`.
template <class Queue>
void round_trips(std::int64_t n, const std::string& prefix) {
    Queue requests;
    Queue replies;
    // The echo server: sends each request node back as its reply; a negative value ends it.
    std::thread server([&] {
        for (;;) {
            node* r = requests.pop();
            if (r->value < 0) {
                return;
            }
            replies.push(r);
        }
    });
    node request;
    std::vector<double> micros;
    micros.reserve(static_cast<std::size_t>(n));
    std::int64_t sum = 0;
    const double cpu_before = process_cpu_seconds();
    for (std::int64_t i = 0; i < n; ++i) {
        const auto start = clock_type::now();
        request.value = i;
        requests.push(&request);
        sum += replies.pop()->value;
        micros.push_back(seconds_since(start) * 1e6);
    }
    const double cpu = process_cpu_seconds() - cpu_before;
    request.value = -1;
    requests.push(&request);
    server.join();
    report_round_trips("ask", prefix, micros, cpu);
    if (sum != n * (n - 1) / 2) {
        report("ask", prefix + "wrong_replies", 1, "error");
    }
}

}  // namespace

void ask(const options& opts) {
    const std::int64_t n = opts.count_or(workload::ask_round_trips);
    round_trips<mpsc_queue>(n, "");
    round_trips<futex_inbox>(std::max<std::int64_t>(1, n / workload::floor_blocking_divisor), "block_");
}

}  // namespace bench::floor_side
