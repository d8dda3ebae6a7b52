// The wait-for graph: which actor waits (blocked, or suspended under reentrancy::none) for
// which other, so that a wait that could never end throws troupe::deadlock instead.

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/shared_state.hpp>
#include <troupe/core/scheduler.hpp>

#include "cell_internals.hpp"

#include <mutex>
#include <string>
#include <unordered_map>

namespace troupe::detail {

namespace {
/// Who waits for whom: an actor blocked on a future, and the actor that will complete it.
/// Entries exist only while their waiter is blocked, so every cell named here is alive.
struct wait_for_graph {
    std::mutex mutex;
    std::unordered_map<const cell_base*, const cell_base*> edges;
};
wait_for_graph& waits() {
    static wait_for_graph g;
    return g;
}
}  // namespace

void add_wait_edge(const cell_base& waiter, const cell_base* producer) {
    if (producer == nullptr) {
        return;
    }
    if (producer == &waiter) {
        throw deadlock(waiter.name() +
                       " would wait for ever: it is blocked on a reply (or a stop) that only it can give");
    }
    auto& g = waits();
    std::lock_guard lock(g.mutex);
    std::string chain = waiter.name() + " -> " + producer->name();
    for (auto it = g.edges.find(producer); it != g.edges.end(); it = g.edges.find(it->second)) {
        chain += " -> " + it->second->name();
        if (it->second == &waiter) {
            throw deadlock("actors wait for each other in a cycle, each for the next: " + chain);
        }
    }
    g.edges[&waiter] = producer;
}

void remove_wait_edge(const cell_base& waiter) noexcept {
    auto& g = waits();
    std::lock_guard lock(g.mutex);
    g.edges.erase(&waiter);
}

blocking_wait::blocking_wait(const cell_base* producer) {
    if (producer != nullptr && running_slot() != nullptr) {
        add_wait_edge(*running_slot(), producer);
        waiter_ = running_slot();
    }
    before_blocking();
}

blocking_wait::~blocking_wait() {
    if (waiter_ != nullptr) {
        remove_wait_edge(*waiter_);
    }
}

}  // namespace troupe::detail
