// An input task: a blocking call runs on troupe's blocking pool, off the actor's worker, and its
// outcome (value or exception) comes back to the actor as one of its own messages.

#include <troupe/async/input.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;

struct compute {
    int v;
    bool fail = false;
};
struct computed {
    bool ok;
    int value;
    std::string error;
};

class calculator : public troupe::actor {
public:
    explicit calculator(troupe::address out) : out_(std::move(out)) {}

    void handle(compute c) {
        troupe::run_blocking(
            troupe::ref{this},
            [c] {  // on the blocking pool
                if (c.fail) {
                    throw std::runtime_error("disk on fire");
                }
                return c.v * 2;
            },
            &calculator::on_done);
    }
    // A message of the actor, like any other: never runs alongside another handler.
    void on_done(troupe::result<int> r) {
        try {
            out_.tell(computed{true, r.get(), ""});
        } catch (const std::runtime_error& e) {
            out_.tell(computed{false, 0, e.what()});
        }
    }

private:
    troupe::address out_;
};

using example::check;

int main() {
    troupe::system sys;
    troupe::inbox inbox(sys);
    auto calc = sys.spawn<calculator>(inbox.address());

    calc.tell(compute{21});
    const computed good = inbox.receive<computed>(5s);
    std::cout << "  compute{21}: " << good.value << '\n';
    check(good.ok && good.value == 42, "the blocking call's value came back as a message");

    calc.tell(compute{1, true});
    const computed bad = inbox.receive<computed>(5s);
    std::cout << "  compute{1, fail}: " << bad.error << '\n';
    check(!bad.ok && bad.error == "disk on fire", "so did its exception");
    return example::exit_status();
}
