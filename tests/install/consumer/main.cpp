// Built against an installed troupe: spawns an actor, asks it, checks the answer; encodes a
// record with troupe::wire and reads it back.
#include <troupe/troupe.hpp>
#include <troupe/wire/codec.hpp>

#include <cstdio>

namespace {

struct square {
    int value = 0;
};
TROUPE_RECORD(square, value);

class squarer : public troupe::actor {
public:
    int handle(square s) { return s.value * s.value; }
};

}  // namespace

int main() {
    troupe::system sys;
    auto s = sys.spawn<squarer>();
    const int answer = s.ask(square{7}).get();
    if (answer != 49) {
        std::fprintf(stderr, "consumer: expected 49, got %d\n", answer);
        return 1;
    }
    static_assert(troupe::encodable<square>, "troupe::wire fills the codec hook for records");
    const square back = troupe::wire::decode<square>(troupe::wire::encode(square{answer}));
    if (back.value != 49) {
        std::fprintf(stderr, "consumer: the record came back as %d\n", back.value);
        return 1;
    }
    std::printf("consumer: installed troupe answered %d, and troupe::wire carried it\n", answer);
    return 0;
}
