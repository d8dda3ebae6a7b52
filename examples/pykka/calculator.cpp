// Pykka's "Actor proxies": the calculator. A ref is also the actor's proxy: call() runs a method,
// get() reads a field, set() writes it; each is a message, handled in order with the others.

#include <troupe/troupe.hpp>

#include <iostream>
#include <optional>
#include <syncstream>

#include "../check.hpp"

class calculator : public troupe::actor {
public:
    int last_result = 0;

    // Pykka's `b=None`: C++ member pointers carry no default arguments, so b is an optional.
    int add(int a, std::optional<int> b) {
        last_result = b ? a + *b : last_result + a;
        return last_result;
    }
    int sub(int a, std::optional<int> b) {
        last_result = b ? a - *b : last_result - a;
        return last_result;
    }
};

using example::check;

int main() {
    troupe::system sys;
    troupe::ref<calculator> proxy = sys.spawn<calculator>();  // Pykka: Calculator.start().proxy()

    troupe::future<int> future = proxy.call(&calculator::add, 1, 3);
    std::cout << "add(1, 3) = " << future.get() << '\n';
    check(future.get() == 4, "call() returns a future of the method's result");
    check(proxy.get(&calculator::last_result).get() == 4, "get() reads a field");

    // Messages are handled in order: no need to wait for sub() before add(), nor for add() before
    // reading the result. defer() calls without a future (call() would do too; its future is dropped).
    proxy.defer(&calculator::sub, 5, std::nullopt);
    proxy.defer(&calculator::add, 3, std::nullopt);
    int result = proxy.get(&calculator::last_result).get();
    std::cout << "sub(5), add(3): last_result = " << result << '\n';
    check(result == 2, "calls are handled in the order they were made");

    // Pykka: proxy.last_result = 17. set() returns a future<void> that completes once it is set.
    proxy.set(&calculator::last_result, 17);
    check(proxy.get(&calculator::last_result).get() == 17, "set() writes a field");
    return example::exit_status();
}
