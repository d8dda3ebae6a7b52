// Must not compile: ref<A>::tell with an argument that reaches A's handler only through a
// conversion to another type (a string_view made from a pointer, here), which would run on
// the actor's thread after the sender's buffer may have changed.
#include <troupe/core/ref.hpp>

#include <string>
#include <string_view>

namespace {

class reader : public troupe::actor {
public:
    void handle(std::string_view) {}
};

}  // namespace

void send_pointer(const troupe::ref<reader>& r, const char* text) {
    r.tell(std::string_view(text));  // fine: the sender chose a view
    r.tell(text);                    // error: a char* stored now, turned into a view later
}
