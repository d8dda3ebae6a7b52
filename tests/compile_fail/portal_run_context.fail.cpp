// Must not compile: portal.run of a context function (one taking a troupe::stream_context&
// first); portal.open_context runs it. The test passes only if the compiler stops at
// portal.hpp's static_assert.
#include <troupe/remote/portal.hpp>

namespace svc {
troupe::task<int> count(troupe::stream_context& ctx, int n);
}  // namespace svc

void run_a_context(const troupe::portal& p) {
    auto f = p.run(&svc::count, 3);  // error: use open_context
}
