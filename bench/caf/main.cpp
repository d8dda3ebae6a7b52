// bench_caf: one scenario per run, named on the command line; prints `scenario metric value unit`.

#include "scenarios.hpp"

int main(int argc, char** argv) {
    using namespace bench::caf_side;
    static const bench::scenario table[] = {
        {"pingpong", pingpong}, {"pingpong1", pingpong1}, {"pairs", pairs},   {"mailbox", mailbox},
        {"fanout", fanout},     {"spawn", spawn},         {"ask", ask},       {"ring", ring},
        {"ring1", ring1},       {"idle", idle},           {"skynet", skynet},
    };
    return bench::run_main(argc, argv, "bench_caf", table);
}
