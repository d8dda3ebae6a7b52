#pragma once
// The scenarios of bench_troupe (see bench/common/workloads.hpp for their sizes).

#include "../common/measure.hpp"

#include <troupe/troupe.hpp>

namespace bench::troupe_side {

/// The system every scenario runs on: `opts.workers` pool workers, everything else default.
inline troupe::system_options system_options_for(const options& opts) {
    troupe::system_options o;
    o.scheduler.workers = opts.workers;
    o.name = "bench";
    return o;
}

void pingpong(const options& opts);
void mailbox(const options& opts);
void fanout(const options& opts);
void ring(const options& opts);
void pingpong1(const options& opts);  ///< pingpong on one worker
void ring1(const options& opts);      ///< ring on one worker
void pairs(const options& opts);      ///< 4 x workers ping-pong pairs at once
void spawn(const options& opts);
void ask(const options& opts);
void idle(const options& opts);
void skynet(const options& opts);
void coroutine(const options& opts);
void restart(const options& opts);

}  // namespace bench::troupe_side
