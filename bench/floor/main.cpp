// bench_floor: one scenario per run, named on the command line; prints `scenario metric value unit`.
// No framework: bare threads and a lock-free queue, as the floor for the framework rows.

#include "scenarios.hpp"

int main(int argc, char** argv) {
    using namespace bench::floor_side;
    static const bench::scenario table[] = {
        {"pingpong", pingpong},
        {"pingpong1", pingpong1},
        {"mailbox", mailbox},
        {"ask", ask},
    };
    return bench::run_main(argc, argv, "bench_floor", table);
}
