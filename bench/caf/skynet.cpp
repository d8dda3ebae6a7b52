// CAF side of skynet: each node spawns 10 children until the leaves, which answer their number;
// every node sends its children's sum to its parent and quits. Same workload as
// bench/troupe/async.cpp.

#include "../common/workloads.hpp"
#include "scenarios.hpp"

#include <cstdint>
#include <memory>

namespace bench::caf_side {

namespace {

struct node_state {
    std::int64_t total = 0;
    int answers = 0;
};

/// A node of the tree; `parent` is null for the root, which reports to main instead.
caf::behavior skynet_node(caf::stateful_actor<node_state>* self, std::int64_t num, std::int64_t size, caf::actor parent,
                          done_flag* done, std::int64_t* result) {
    auto finish = [self, parent, done, result](std::int64_t value) {
        if (parent) {
            self->send(parent, value);
        } else {
            *result = value;
            done->raise();
        }
        self->quit();
    };
    if (size == 1) {
        finish(num);
        return {};
    }
    const std::int64_t child_size = size / workload::skynet_branching;
    for (int i = 0; i < workload::skynet_branching; ++i) {
        self->spawn(skynet_node, num + i * child_size, child_size, caf::actor_cast<caf::actor>(self), done, result);
    }
    return {
        [self, finish](std::int64_t value) {
            self->state.total += value;
            if (++self->state.answers == workload::skynet_branching) {
                finish(self->state.total);
            }
        },
    };
}

}  // namespace

void skynet(const options& opts) {
    const std::int64_t leaves = opts.count_or(workload::skynet_leaves);
    caf::actor_system_config cfg;
    configure(cfg, opts);
    // On the heap, so that the time until its destructor returned can be taken.
    auto sys = std::make_unique<caf::actor_system>(cfg);
    done_flag done;
    std::int64_t result = 0;
    const auto start = clock_type::now();
    sys->spawn(skynet_node, std::int64_t{0}, leaves, caf::actor{}, &done, &result);
    done.wait();
    const double seconds = seconds_since(start);
    // Every node quits after answering; the last ones may still be running now.
    sys->await_all_actors_done();
    const double ended = seconds_since(start);
    sys.reset();
    const double joined = seconds_since(start);
    report("skynet", "total", seconds, "s");
    report("skynet", "all_ended", ended, "s");
    report("skynet", "shutdown_returned", joined, "s");
    report("skynet", "sum_ok", result == leaves * (leaves - 1) / 2 ? 1 : 0, "bool");
}

}  // namespace bench::caf_side
