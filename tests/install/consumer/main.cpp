// Built against an installed troupe: spawns an actor, asks it, checks the answer.
#include <troupe/troupe.hpp>

#include <cstdio>

namespace {

struct square {
    int value;
};

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
    std::printf("consumer: installed troupe answered %d\n", answer);
    return 0;
}
