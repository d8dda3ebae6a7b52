// Futures: then, when_all, when_any, and promises completed by any code.

#include <troupe/troupe.hpp>

#include <iostream>
#include <string>
#include <syncstream>
#include <tuple>
#include <vector>

#include "../check.hpp"

struct square {
    int x;
};
struct describe {
    int x;
};

class math : public troupe::actor {
public:
    int handle(square s) { return s.x * s.x; }
    std::string handle(describe d) { return d.x % 2 == 0 ? "even" : "odd"; }
};

using example::check;

int main() {
    troupe::system sys;
    auto m = sys.spawn<math>();

    // then: runs when the value is there (on the thread that completes the future). Keep it short.
    troupe::future<int> plus_one = m.ask(square{3}).then([](int v) { return v + 1; });
    check(plus_one.get() == 10, "then() transforms the value");

    // A continuation that returns a future is flattened: ask again with the first answer.
    troupe::future<int> fourth_power = m.ask(square{2}).then([m](int v) { return m.ask(square{v}); });
    check(fourth_power.get() == 16, "then() chains a second ask");

    // when_all over a vector: the values in order.
    std::vector<troupe::future<int>> squares;
    for (int i = 1; i <= 4; ++i) {
        squares.push_back(m.ask(square{i}));
    }
    std::vector<int> values = troupe::when_all(std::move(squares)).get();
    check(values == std::vector<int>{1, 4, 9, 16}, "when_all() of a vector");

    // when_all of futures of different types: a tuple.
    auto [nine, odd] = troupe::when_all(m.ask(square{3}), m.ask(describe{3})).get();
    check(nine == 9 && odd == "odd", "when_all() of different types");

    // when_any: the index of the first to complete. A promise is a future any code completes.
    troupe::promise<int> later;
    std::vector<troupe::future<int>> race{later.get_future(), m.ask(square{5})};
    std::size_t first = troupe::when_any(race).get();
    check(first == 1 && race[first].get() == 25, "when_any() gives the first to complete");
    later.set_value(0);

    // Errors skip then() and pass through: here the actor is gone.
    m.stop();
    troupe::future<int> skipped = m.ask(square{4}).then([](int v) { return v + 1; });
    try {
        skipped.get();
        check(false, "an error passes through then()");
    } catch (const troupe::actor_dead& e) {
        std::cout << "  (" << e.what() << ")\n";
        check(true, "an error passes through then()");
    }
    return example::exit_status();
}
