// Structured concurrency inside an actor. A nursery runs tasks and child actors together and
// ends only once all of them have; the first error cancels the rest. move_on_after and
// fail_after put a deadline on a task: when it passes, the task is cancelled and unwinds.

#include <troupe/async/nursery.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include "../check.hpp"

using namespace std::chrono_literals;

struct finish_now {};
/// A child actor of the nursery: it ends when told to.
class helper : public troupe::actor {
public:
    void handle(finish_now) { self().stop(); }
};

struct run_all {};
struct run_failing {};
class organizer : public troupe::actor {
public:
    troupe::task<int> handle(run_all) {
        int total = 0;
        co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
            // The guide shows these lines as they are.
            // clang-format off
            n.start(add_later(total, 1, 2ms));    // tasks run concurrently, on this actor,
            n.start(add_later(total, 10, 1ms));   // interleaved at their suspension points
            n.spawn<helper>().tell(finish_now{}); // a child actor the nursery waits for
            // clang-format on
            co_return;
        });
        co_return total;  // every task and actor of the nursery has ended
    }

    /// One task fails: the other one, asleep for an hour, is cancelled; the errors come together.
    troupe::task<std::string> handle(run_failing) {
        int total = 0;
        try {
            co_await troupe::open_nursery([&](troupe::nursery& n) -> troupe::task<void> {
                n.start(add_later(total, 1, 1h));
                n.start(fail_after_a_while());
                co_return;
            });
        } catch (const troupe::error_group& e) {
            co_return std::to_string(e.errors().size()) + " error, total " + std::to_string(total);
        }
        co_return "no error";
    }

private:
    troupe::task<void> add_later(int& total, int v, std::chrono::milliseconds d) {
        co_await troupe::sleep_for(d);
        total += v;
    }
    troupe::task<void> fail_after_a_while() {
        co_await troupe::sleep_for(1ms);
        throw std::runtime_error("out of paper");
    }
};

struct fetch_both {};
/// Fetches with deadlines; a fetch takes `delay`.
class fetcher : public troupe::actor {
public:
    explicit fetcher(std::chrono::milliseconds delay) : delay_(delay) {}

    troupe::task<int> handle(fetch_both) {
        // The guide shows these lines as they are.
        // clang-format off
        std::optional<int> r = co_await troupe::move_on_after(100ms, fetch());  // nullopt if too slow
        int v = co_await troupe::fail_after(100ms, fetch());                     // troupe::timeout if too slow
        // clang-format on
        co_return r.value_or(0) + v;
    }

private:
    troupe::task<int> fetch() {
        co_await troupe::sleep_for(delay_);
        co_return 21;
    }

    std::chrono::milliseconds delay_;
};

using example::check;

int main() {
    troupe::system sys;

    auto o = sys.spawn<organizer>();
    check(o.ask(run_all{}).get(5s) == 11, "the nursery waited for both tasks and its actor");
    const std::string failing = o.ask(run_failing{}).get(5s);
    std::cout << "  " << failing << '\n';
    check(failing == "1 error, total 0", "the first error cancelled the sleeping task");

    check(sys.spawn<fetcher>(1ms).ask(fetch_both{}).get(5s) == 42, "fast fetches finish within their deadlines");
    const auto start = std::chrono::steady_clock::now();
    try {
        sys.spawn<fetcher>(1h).ask(fetch_both{}).get(5s);
        check(false, "fail_after gives up on a slow fetch");
    } catch (const troupe::timeout& e) {
        const auto waited = std::chrono::steady_clock::now() - start;
        std::cout << "  (" << e.what() << ")\n";
        check(std::string(e.what()).starts_with("fail_after"), "fail_after gives up on a slow fetch");
        check(waited >= 200ms, "move_on_after, then fail_after, each waited out its deadline");
    }
    return example::exit_status();
}
