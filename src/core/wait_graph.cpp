// The wait-for graph: which actor waits (blocked, or suspended under reentrancy::none) for
// which other, so that a wait that could never end throws troupe::deadlock instead.

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/shared_state.hpp>
#include <troupe/core/scheduler.hpp>

#include "cell_internals.hpp"

#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace troupe::detail {

namespace {
/// Who waits for what: an actor blocked on (or, under reentrancy::none, suspended on) a shared
/// state, which another actor will complete. Edges exist only while their waiter waits, and the
/// waiter holds a reference to the state meanwhile, so every cell and state named here is alive.
/// A state that is already complete is a wait about to end, not a wait: it is never followed
/// (a waiter whose reply has come but whose thread has not woken yet waits for nobody).
struct wait_for_graph {
    std::mutex mutex;
    std::unordered_multimap<const cell_base*, const state_base*> edges;
};
wait_for_graph& waits() {
    static wait_for_graph g;
    return g;
}

/// True if `from` waits, directly or through other waits, for `target`; `chain` gets the path.
bool waits_for(const wait_for_graph& g, const cell_base* from, const cell_base* target,
               std::unordered_set<const cell_base*>& seen, std::vector<const cell_base*>& chain) {
    if (!seen.insert(from).second) {
        return false;
    }
    auto [first, last] = g.edges.equal_range(from);
    for (auto it = first; it != last; ++it) {
        if (it->second->ready()) {
            continue;
        }
        const cell_base* next = it->second->producer();
        if (next == nullptr) {
            continue;
        }
        chain.push_back(next);
        if (next == target || waits_for(g, next, target, seen, chain)) {
            return true;
        }
        chain.pop_back();
    }
    return false;
}
}  // namespace

void add_wait_edge(const cell_base& waiter, const state_base& awaited) {
    const cell_base* producer = awaited.producer();
    if (producer == nullptr || awaited.ready()) {
        return;
    }
    if (producer == &waiter) {
        throw deadlock(waiter.name() +
                       " would wait for ever: it is blocked on a reply (or a stop) that only it can give");
    }
    auto& g = waits();
    std::lock_guard lock(g.mutex);
    std::unordered_set<const cell_base*> seen;
    std::vector<const cell_base*> chain{producer};
    if (waits_for(g, producer, &waiter, seen, chain)) {
        std::string text = waiter.name();
        for (const cell_base* c : chain) {
            text += " -> " + c->name();
        }
        throw deadlock("actors wait for each other in a cycle, each for the next: " + text);
    }
    g.edges.emplace(&waiter, &awaited);
}

void remove_wait_edge(const cell_base& waiter, const state_base& awaited) noexcept {
    auto& g = waits();
    std::lock_guard lock(g.mutex);
    auto [first, last] = g.edges.equal_range(&waiter);
    for (auto it = first; it != last; ++it) {
        if (it->second == &awaited) {
            g.edges.erase(it);
            return;
        }
    }
}

blocking_wait::blocking_wait(const state_base& awaited) {
    if (cell_base* self = running_slot(); self != nullptr && awaited.producer() != nullptr) {
        add_wait_edge(*self, awaited);
        waiter_ = self;
        awaited_ = &awaited;
    }
    before_blocking();
}

blocking_wait::~blocking_wait() {
    if (waiter_ != nullptr) {
        remove_wait_edge(*waiter_, *awaited_);
    }
}

}  // namespace troupe::detail
