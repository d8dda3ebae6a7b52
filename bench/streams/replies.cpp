// agent.map(), agent.join() and agent.ask() of an agent that doubles int64 values, on the
// embedded broker with one partition, next to bare floors (see replies.hpp). Every reply is
// checked: a wrong or missing one throws, and the program fails.
//
// troupe's map rate is n / (the time from app.start() until an app task has read all n replies
// of doubler.map(0..n-1, 60 s), at most 1,000 asks waiting at once); join's, n / (the time of
// doubler.join(values, 60 s).get() from the main thread, which sends all n asks at once). Each
// ask is a request record with a reply-to and a correlation-id header, a timer for its
// deadline and an entry in the app's table of waiting asks; the agent's reply is a record on
// the app's reply topic, read by the app's reply reader, which completes the ask's future.
// The floor's requests are (id, value) pairs in a queue to a bare worker thread and its
// replies (id, 2 * value) in another queue back: no records, headers, timers or table.

#include <troupe/streams/app.hpp>

#include "../floor/futex_inbox.hpp"
#include "../floor/mpsc_queue.hpp"
#include "batch_queue.hpp"
#include "measure.hpp"
#include "replies.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bench_streams {

namespace {

namespace streams = troupe::streams;
using namespace std::chrono_literals;
using number_stream = streams::stream<std::string, std::int64_t>;

troupe::generator<std::int64_t> doubling(number_stream& s) {
    while (std::optional<std::int64_t> v = co_await s.next()) {
        co_yield 2 * *v;
    }
}

/// The replies to 0..n-1 add up to n(n-1); anything else lost or changed one.
void check_replies(const char* what, std::uint64_t n, std::uint64_t got, std::int64_t sum) {
    const auto expected = static_cast<std::int64_t>(n) * (static_cast<std::int64_t>(n) - 1);
    if (got != n || sum != expected) {
        throw std::runtime_error(std::string(what) + ": " + std::to_string(got) + " replies adding up to " +
                                 std::to_string(sum) + ", not " + std::to_string(n) + " adding up to " +
                                 std::to_string(expected));
    }
}

void check_no_ask_left(const char* what, const streams::app& app) {
    if (app.pending_asks() != 0) {
        throw std::runtime_error(std::string(what) + ": " + std::to_string(app.pending_asks()) + " asks left waiting");
    }
}

streams::app_options options_of(const std::string& broker) {
    return {.broker = broker, .topic_partitions = 1, .fetch_batch = 1024};
}

}  // namespace

double troupe_map(std::uint64_t n) {
    streams::app app{"bench-map", options_of("memory://bench-map")};
    auto& numbers = app.topic<std::string, std::int64_t>("numbers");
    auto& doubler = app.agent("doubler", numbers, doubling);
    troupe::promise<std::pair<std::uint64_t, std::int64_t>> read;  // replies read, their sum
    app.task([&]() -> troupe::task<void> {
        std::uint64_t got = 0;
        std::int64_t sum = 0;
        try {
            auto replies = doubler.map(std::views::iota(std::int64_t{0}, static_cast<std::int64_t>(n)), 60s);
            while (std::optional<std::int64_t> r = co_await replies.next()) {
                ++got;
                sum += *r;
            }
        } catch (...) {
            read.set_exception(std::current_exception());  // a timeout: main must not wait forever
            co_return;
        }
        read.set_value(std::pair(got, sum));
    });
    const auto start = clock_type::now();
    app.start();
    const auto [got, sum] = read.get_future().get();
    const double seconds = seconds_since(start);
    app.stop();
    check_replies("map", n, got, sum);
    check_no_ask_left("map", app);
    return static_cast<double>(n) / seconds;
}

double troupe_join(std::uint64_t n) {
    streams::app app{"bench-join", options_of("memory://bench-join")};
    auto& numbers = app.topic<std::string, std::int64_t>("numbers");
    auto& doubler = app.agent("doubler", numbers, doubling);
    std::vector<std::int64_t> values(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        values[i] = static_cast<std::int64_t>(i);
    }
    app.start();
    const auto start = clock_type::now();
    const std::vector<std::int64_t> replies = doubler.join(values, 60s).get();
    const double seconds = seconds_since(start);
    app.stop();
    std::int64_t sum = 0;
    for (std::uint64_t i = 0; i < replies.size(); ++i) {
        if (replies[i] != 2 * values[i]) {
            throw std::runtime_error("join: reply " + std::to_string(i) + " is " + std::to_string(replies[i]));
        }
        sum += replies[i];
    }
    check_replies("join", n, replies.size(), sum);
    check_no_ask_left("join", app);
    return static_cast<double>(n) / seconds;
}

double floor_map(std::uint64_t n, std::uint64_t window) {
    struct message {
        std::uint64_t id;
        std::int64_t value;
    };
    constexpr std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
    batch_queue<message> requests;
    batch_queue<message> replies;
    std::thread worker([&] {
        std::vector<message> got;
        std::vector<message> out;
        for (;;) {
            requests.take_all(got);
            for (const message& m : got) {
                if (m.id == last) {
                    return;
                }
                out.push_back({m.id, 2 * m.value});
            }
            replies.push_all(out);
        }
    });
    const auto start = clock_type::now();
    std::uint64_t sent = 0;
    std::uint64_t got = 0;
    std::int64_t sum = 0;
    std::vector<message> in;
    while (got < n) {
        for (; sent < n && sent - got < window; ++sent) {
            requests.push({sent, static_cast<std::int64_t>(sent)});
        }
        replies.take_all(in);
        for (const message& m : in) {
            if (m.value != 2 * static_cast<std::int64_t>(m.id)) {
                throw std::runtime_error("floor map: a wrong reply");
            }
            sum += m.value;
        }
        got += in.size();
    }
    const double seconds = seconds_since(start);
    requests.push({last, 0});
    worker.join();
    check_replies("floor map", n, got, sum);
    return static_cast<double>(n) / seconds;
}

std::vector<double> troupe_asks(std::uint64_t asks, std::optional<unsigned> spin_rounds) {
    // The app's own system unless the scheduler's spinning is chosen. Declared before the app,
    // so it outlives it.
    std::optional<troupe::system> chosen;
    if (spin_rounds) {
        troupe::system_options o;
        o.scheduler.spin_rounds = *spin_rounds;
        chosen.emplace(o);
    }
    streams::app app{"bench-ask",
                     {.broker = "memory://bench-ask", .topic_partitions = 1, .system = chosen ? &*chosen : nullptr}};
    std::vector<double> micros;
    micros.reserve(asks);
    auto& numbers = app.topic<std::string, std::int64_t>("numbers");
    auto& doubler = app.agent("doubler", numbers, doubling);
    app.start();
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < 1000; ++i) {  // warm-up
        wrong += doubler.ask(i, 10s).get() != 2 * i;
    }
    for (std::uint64_t i = 0; i < asks; ++i) {
        const auto v = static_cast<std::int64_t>(i);
        const auto t = clock_type::now();
        const std::int64_t reply = doubler.ask(v, 10s).get();
        micros.push_back(micros_since(t));
        wrong += reply != 2 * v;
    }
    app.stop();
    if (wrong != 0) {
        throw std::runtime_error("ask: " + std::to_string(wrong) + " wrong replies");
    }
    check_no_ask_left("ask", app);
    return micros;
}

namespace {

/// floor_asks() with the queues of `Queue` (bench/floor's mpsc_queue or futex_inbox).
template <class Queue>
std::vector<double> round_trips(std::uint64_t asks) {
    using bench::floor_side::node;
    Queue requests;
    Queue replies;
    std::vector<double> micros;
    micros.reserve(asks);
    std::thread server([&] {  // doubles each request in place and sends it back; -1 ends it
        for (;;) {
            node* r = requests.pop();
            if (r->value < 0) {
                return;
            }
            r->value *= 2;
            replies.push(r);
        }
    });
    node request;
    std::int64_t wrong = 0;
    for (std::uint64_t i = 0; i < asks + 1000; ++i) {  // the first 1,000 not timed, as troupe's
        const auto v = static_cast<std::int64_t>(i);
        const auto t = clock_type::now();
        request.value = v;
        requests.push(&request);
        wrong += replies.pop()->value != 2 * v;
        if (i >= 1000) {
            micros.push_back(micros_since(t));
        }
    }
    request.value = -1;
    requests.push(&request);
    server.join();
    if (wrong != 0) {
        throw std::runtime_error("floor ask: wrong replies");
    }
    return micros;
}

}  // namespace

std::vector<double> floor_asks(std::uint64_t asks, bool spin) {
    return spin ? round_trips<bench::floor_side::mpsc_queue>(asks) : round_trips<bench::floor_side::futex_inbox>(asks);
}

}  // namespace bench_streams
