// Must not compile: ref<A>::send (for `co_await target.send(m)`) with a message type A has no
// handle() overload for. It is checked exactly as tell is: the test passes only if the compiler
// stops at ref.hpp's readable static_assert.
#include <troupe/core/ref.hpp>

namespace {

struct ping {};
struct pong {};

class only_pings : public troupe::actor {
public:
    void handle(ping) {}
};

}  // namespace

void send_unhandled(const troupe::ref<only_pings>& r) {
    auto fine = r.send(ping{});   // fine: only_pings handles ping
    auto wrong = r.send(pong{});  // error: no handle(pong)
}
