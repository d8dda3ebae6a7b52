#pragma once
// The scenarios of bench_floor: the patterns of bench_troupe's messaging and ask rows with bare
// std::threads and the queues in this directory, no framework (sizes in
// bench/common/workloads.hpp). Their figures are the floor the frameworks' rows are divided by.

#include "../common/measure.hpp"

namespace bench::floor_side {

void pingpong(const options& opts);   ///< 2 threads bounce a token: spinning, then on a futex
void pingpong1(const options& opts);  ///< 1 thread passes the token through both queues
void mailbox(const options& opts);    ///< 2 producer threads into one consumer
void ask(const options& opts);        ///< request from main, reply from a server thread

}  // namespace bench::floor_side
