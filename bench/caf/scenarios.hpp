#pragma once
// The scenarios of bench_caf (see bench/common/workloads.hpp for their sizes), written against
// CAF 0.17 (Debian's libcaf-dev).

#include "../common/measure.hpp"

#include <caf/all.hpp>

namespace bench::caf_side {

/// The configuration every scenario runs with: `opts.workers` threads, default (stealing) policy.
inline void configure(caf::actor_system_config& cfg, const options& opts) {
    // 0.17 defaults to max(cores, 4) workers, so the count is always set explicitly.
    cfg.set("scheduler.max-threads", static_cast<std::size_t>(opts.workers));
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

}  // namespace bench::caf_side
