// Must not compile: run_in_actor of a context function (one taking a troupe::stream_context&
// first). Its call grants no credit and gives no context, so the child would wait for ever on
// its first send; the test passes only if the compiler stops at actor_nursery.hpp's
// static_assert.
#include <troupe/remote/actor_nursery.hpp>

namespace svc {
troupe::task<int> count(troupe::stream_context& ctx, int n);
}  // namespace svc

troupe::task<void> run_a_context(troupe::actor_nursery& an) {
    auto p = an.run_in_actor("counter", &svc::count, 3);  // error: use open_context
    co_await p.result();
}
