// Must not compile: converting a ref<A> to an untyped troupe::address when A declares no
// `using handles = troupe::handles<...>;` list. The test passes only if the compiler stops at
// ref.hpp's readable static_assert.
#include <troupe/core/address.hpp>
#include <troupe/core/ref.hpp>

namespace {

struct ping {};

class no_handles_list : public troupe::actor {
public:
    void handle(ping) {}
};

}  // namespace

troupe::address untyped(const troupe::ref<no_handles_list>& r) {
    return r;  // error: no handles list
}
