// bench_troupe: one scenario per run, named on the command line; prints `scenario metric value unit`.

#include "scenarios.hpp"

int main(int argc, char** argv) {
    using namespace bench::troupe_side;
    static const bench::scenario table[] = {
        {"pingpong", pingpong}, {"pingpong1", pingpong1}, {"pairs", pairs},   {"mailbox", mailbox},
        {"fanout", fanout},     {"spawn", spawn},         {"ask", ask},       {"ring", ring},
        {"ring1", ring1},       {"idle", idle},           {"skynet", skynet}, {"coroutine", coroutine},
        {"restart", restart},
    };
    return bench::run_main(argc, argv, "bench_troupe", table);
}
