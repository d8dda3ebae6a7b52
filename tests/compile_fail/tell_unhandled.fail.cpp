// Must not compile: ref<A>::tell with a message type A has no handle() overload for.
// The test passes only if the compiler stops at ref.hpp's readable static_assert.
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
    r.tell(ping{});  // fine: only_pings handles ping
    r.tell(pong{});  // error: no handle(pong)
}
