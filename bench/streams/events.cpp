// Events through one agent on the embedded broker (issue 8's first benchmark row): produce ->
// consume -> handler -> ack -> commit, with raw 8-byte values and with JSON records of four
// fields, next to a bare loop that decodes the same values the same way (memcpy; simdjson's
// on-demand API) with no framework, in the same run. And the round trip of an agent's ask.
//
//   bench_events [n=1000000] [rounds=5] [asks=20000] [only=raw_pipeline]
//
// only=raw_pipeline runs the raw pipelines alone (send, then send_soon, in each round), printing
// every round as well as the medians: their rounds are bimodal on this machine, so the spread
// says more than one median.
//
// troupe's "rate" is n / (the time from the first send until the agent has finished n values
// and the app has stopped, its last commit made): the producer (this thread) and the agent (a
// worker) run at once. "produce" and "consume" are the two halves apart: n sends into a topic
// no agent reads yet, then an agent taking those n values (from its start to the app's stop).
// The rows with "_soon" are the same with topic.send_soon(v), which makes no future per value,
// in place of topic.send(v). The floor's is n / (the time to decode n values already in
// memory). Medians of `rounds`.
//
// "rss" is how much the resident set grows a value over the second half of one pipeline of n
// raw values whose agent commits every 100 ms (run first, before the other rows have used the
// heap): at the middle and at the end the producer waits until the agent has committed all it
// sent, then reads /proc/self/statm. A broker that keeps every record grows by about a
// record's size; one that frees what was committed, by about nothing.

#include <troupe/streams/app.hpp>

#include "withdrawal.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace streams = troupe::streams;
using bench_streams::withdrawal;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
void report(const char* side, const char* scenario, const char* metric, double value, const char* unit) {
    std::printf("%-7s %-16s %-10s %14.1f %s\n", side, scenario, metric, value, unit);
}

std::int64_t sink = 0;  // printed at the end, so no loop is optimised away

/// n sends of make(0..n-1) to `topic`: with send(), or with send_soon().
template <class Topic, class Make>
void send_all(const Topic& topic, std::uint64_t n, bool soon, Make make) {
    if (soon) {
        for (std::uint64_t i = 0; i < n; ++i) {
            topic.send_soon(make(i));
        }
    } else {
        for (std::uint64_t i = 0; i < n; ++i) {
            topic.send(make(i));
        }
    }
}

/// One run of n values through an agent: events per second.
template <class V, class Make, class Use>
double through_agent(std::uint64_t n, int round, bool soon, Make make, Use use) {
    const std::string url =
        "memory://bench-events-" + std::to_string(round) + (soon ? "-soon-" : "-") + typeid(V).name();
    streams::app app{"bench", {.broker = url, .topic_partitions = 1, .fetch_batch = 1024}};
    auto& topic = app.topic<std::string, V>("events");
    std::atomic<std::uint64_t> left{n};
    troupe::promise<void> done;
    std::int64_t total = 0;  // the agent's: read after stop()
    app.agent("count", topic, [&](streams::stream<std::string, V>& s) -> troupe::task<void> {
        while (std::optional<V> v = co_await s.next()) {
            total += use(*v);
            if (left.fetch_sub(1, std::memory_order_relaxed) == 1) {
                done.set_value();
            }
        }
    });
    app.start();
    const auto start = clock_type::now();
    send_all(topic, n, soon, make);
    done.get_future().get();
    app.stop();
    const double seconds = seconds_since(start);
    sink += total;
    return static_cast<double>(n) / seconds;
}

/// The halves apart: n sends into a topic nobody reads yet, then an agent taking them.
template <class V, class Make, class Use>
std::pair<double, double> halves(std::uint64_t n, int round, bool soon, Make make, Use use) {
    const std::string url =
        "memory://bench-halves-" + std::to_string(round) + (soon ? "-soon-" : "-") + typeid(V).name();
    streams::app app{"bench", {.broker = url, .topic_partitions = 1, .fetch_batch = 1024}};
    auto& topic = app.topic<std::string, V>("events");
    std::atomic<std::uint64_t> left{n};
    troupe::promise<void> done;
    std::int64_t total = 0;
    app.agent("count", topic, [&](streams::stream<std::string, V>& s) -> troupe::task<void> {
        while (std::optional<V> v = co_await s.next()) {
            total += use(*v);
            if (left.fetch_sub(1, std::memory_order_relaxed) == 1) {
                done.set_value();
            }
        }
    });
    auto start = clock_type::now();
    send_all(topic, n, soon, make);
    const double produce = static_cast<double>(n) / seconds_since(start);
    start = clock_type::now();
    app.start();
    done.get_future().get();
    app.stop();
    const double consume = static_cast<double>(n) / seconds_since(start);
    sink += total;
    return {produce, consume};
}

/// This process's resident set, in bytes (Linux: the second field of /proc/self/statm, in pages).
std::int64_t resident_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) {
        return 0;
    }
    long size = 0;
    long resident = 0;
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) {
        resident = 0;
    }
    std::fclose(f);
    return static_cast<std::int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

/// Bytes of resident set a value, over the second half of a pipeline of n raw values.
double rss_growth(std::uint64_t n) {
    streams::app app{"bench-rss",
                     {.broker = "memory://bench-rss",
                      .topic_partitions = 1,
                      .commit_interval = std::chrono::milliseconds(100),
                      .fetch_batch = 1024}};
    auto& topic = app.topic<std::string, std::string>("events");
    std::int64_t total = 0;
    auto& agent = app.agent("count", topic, [&](streams::stream<std::string, std::string>& s) -> troupe::task<void> {
        while (std::optional<std::string> v = co_await s.next()) {
            total += (*v)[0];
        }
    });
    const auto send_and_settle = [&](std::uint64_t from, std::uint64_t to) {
        for (std::uint64_t i = from; i < to; ++i) {
            topic.send_soon(std::string(reinterpret_cast<const char*>(&i), 8));
        }
        // A benchmark's wait, not a test's: until the agent's interval commit has passed them all.
        while (app.broker().committed(agent.group(), {"events", 0}).value_or(0) < to) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return resident_bytes();
    };
    app.start();
    const std::int64_t middle = send_and_settle(0, n / 2);
    const std::int64_t end = send_and_settle(n / 2, n);
    app.stop();
    sink += total;
    return static_cast<double>(end - middle) / static_cast<double>(n - n / 2);
}

void ask_round_trips(std::uint64_t asks) {
    streams::app app{"bench-ask", {.broker = "memory://bench-ask", .topic_partitions = 1}};
    auto& topic = app.topic<std::string, std::int64_t>("numbers");
    auto& doubler = app.agent("doubler", topic,
                              [](streams::stream<std::string, std::int64_t>& s) -> troupe::generator<std::int64_t> {
                                  while (std::optional<std::int64_t> v = co_await s.next()) {
                                      co_yield 2 * *v;
                                  }
                              });
    app.start();
    for (int i = 0; i < 1000; ++i) {  // warm-up
        sink += doubler.ask(i, std::chrono::seconds(10)).get();
    }
    std::vector<double> micros;
    micros.reserve(asks);
    for (std::uint64_t i = 0; i < asks; ++i) {
        const auto t = clock_type::now();
        sink += doubler.ask(static_cast<std::int64_t>(i), std::chrono::seconds(10)).get();
        micros.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
    }
    double total = 0;
    for (double m : micros) {
        total += m;
    }
    std::sort(micros.begin(), micros.end());
    report("troupe", "agent_ask", "mean", total / static_cast<double>(micros.size()), "us");
    report("troupe", "agent_ask", "p50", micros[micros.size() / 2], "us");
    report("troupe", "agent_ask", "p99", micros[micros.size() * 99 / 100], "us");
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t n = 1'000'000;
    int rounds = 5;
    std::uint64_t asks = 20'000;
    bool raw_pipeline_only = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "n=", 2) == 0) {
            n = std::strtoull(argv[i] + 2, nullptr, 10);
        } else if (std::strncmp(argv[i], "rounds=", 7) == 0) {
            rounds = std::atoi(argv[i] + 7);
        } else if (std::strncmp(argv[i], "asks=", 5) == 0) {
            asks = std::strtoull(argv[i] + 5, nullptr, 10);
        } else if (std::strcmp(argv[i], "only=raw_pipeline") == 0) {
            raw_pipeline_only = true;
        } else {
            std::fprintf(stderr, "bench_events: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    const auto make_raw = [](std::uint64_t i) { return std::string(reinterpret_cast<const char*>(&i), 8); };
    const auto use_raw = [](const std::string& v) {
        std::int64_t x = 0;
        std::memcpy(&x, v.data(), 8);
        return x;
    };
    if (raw_pipeline_only) {
        std::vector<double> with_send, with_soon;
        for (int r = 0; r < rounds; ++r) {
            with_send.push_back(through_agent<std::string>(n, r, false, make_raw, use_raw));
            with_soon.push_back(through_agent<std::string>(n, r, true, make_raw, use_raw));
            std::printf("round %d: send %.2f M/s, send_soon %.2f M/s\n", r, with_send.back() / 1e6,
                        with_soon.back() / 1e6);
        }
        report("troupe", "agent_raw", "rate", median(with_send), "events/s");
        report("troupe", "agent_raw", "rate_soon", median(with_soon), "events/s");
        std::printf("(checksum %lld)\n", static_cast<long long>(sink));
        return 0;
    }

    // Raw 8-byte values: a std::string of 8 bytes (raw codec) through the agent; the floor
    // copies the same 8 bytes out of each value.
    std::vector<std::vector<std::byte>> raw_values(n, std::vector<std::byte>(8));
    std::vector<std::vector<std::byte>> json_values;
    json_values.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        std::memcpy(raw_values[i].data(), &i, 8);
        json_values.push_back(streams::encode_as(streams::serializer::json, bench_streams::sample_withdrawal(i)));
    }
    const double rss = rss_growth(n);
    std::vector<double> troupe_raw, floor_raw, troupe_json, floor_json, soon_raw, soon_json;
    std::vector<double> produce_raw, consume_raw, produce_json, consume_json, produce_soon_raw, produce_soon_json;
    bench_streams::by_hand_decoder bare;
    const auto make_json = [](std::uint64_t i) { return bench_streams::sample_withdrawal(i); };
    const auto use_json = [](const withdrawal& w) { return w.date; };
    for (int r = 0; r < rounds; ++r) {
        troupe_raw.push_back(through_agent<std::string>(n, r, false, make_raw, use_raw));
        soon_raw.push_back(through_agent<std::string>(n, r, true, make_raw, use_raw));
        auto t = clock_type::now();
        for (const auto& v : raw_values) {
            std::string s(reinterpret_cast<const char*>(v.data()), v.size());  // what the raw codec makes
            std::int64_t x = 0;
            std::memcpy(&x, s.data(), 8);
            sink += x;
        }
        floor_raw.push_back(static_cast<double>(n) / seconds_since(t));

        auto [pr, cr] = halves<std::string>(n, r, false, make_raw, use_raw);
        produce_raw.push_back(pr);
        consume_raw.push_back(cr);
        produce_soon_raw.push_back(halves<std::string>(n, r, true, make_raw, use_raw).first);

        troupe_json.push_back(through_agent<withdrawal>(n, r, false, make_json, use_json));
        soon_json.push_back(through_agent<withdrawal>(n, r, true, make_json, use_json));
        auto [pj, cj] = halves<withdrawal>(n, r, false, make_json, use_json);
        produce_json.push_back(pj);
        consume_json.push_back(cj);
        produce_soon_json.push_back(halves<withdrawal>(n, r, true, make_json, use_json).first);
        t = clock_type::now();
        for (const auto& v : json_values) {
            sink += bare.decode_withdrawal(std::string_view(reinterpret_cast<const char*>(v.data()), v.size())).date;
        }
        floor_json.push_back(static_cast<double>(n) / seconds_since(t));
    }
    report("troupe", "agent_raw", "rate", median(troupe_raw), "events/s");
    report("troupe", "agent_raw", "rate_soon", median(soon_raw), "events/s");
    report("floor", "agent_raw", "rate", median(floor_raw), "events/s");
    report("troupe", "agent_json", "rate", median(troupe_json), "events/s");
    report("troupe", "agent_json", "rate_soon", median(soon_json), "events/s");
    report("floor", "agent_json", "rate", median(floor_json), "events/s");
    report("troupe", "agent_raw", "produce", median(produce_raw), "events/s");
    report("troupe", "agent_raw", "prod_soon", median(produce_soon_raw), "events/s");
    report("troupe", "agent_raw", "consume", median(consume_raw), "events/s");
    report("troupe", "agent_json", "produce", median(produce_json), "events/s");
    report("troupe", "agent_json", "prod_soon", median(produce_soon_json), "events/s");
    report("troupe", "agent_json", "consume", median(consume_json), "events/s");
    report("ratio", "agent_raw", "floor/troupe", median(floor_raw) / median(troupe_raw), "x");
    report("ratio", "agent_json", "floor/troupe", median(floor_json) / median(troupe_json), "x");
    report("troupe", "agent_raw", "rss", rss, "bytes/event");
    ask_round_trips(asks);
    std::printf("(checksum %lld)\n", static_cast<long long>(sink));
    return 0;
}
