#pragma once
/// \file
/// The registrar's table: which process actors are registered, by name, and who waits for or
/// watches a name. The registrar's exposed functions ("troupe.registrar": hold, find,
/// wait_for, watch, list) work on it; a process hosts at most one.

#include <troupe/core/future.hpp>
#include <troupe/remote/discovery.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace troupe::remote::detail {

class registry_table {
public:
    /// The changes a watcher has not taken yet, and its wake-up.
    struct watcher {
        std::string name;  // empty: every name
        std::mutex lock;
        std::deque<registry_event> events;
        std::optional<promise<void>> waiting;
    };

    /// Adds `e` (a name may be registered by several actors; the last one wins lookups).
    void add(const actor_entry& e);
    /// Removes the entry with `id`, if any.
    void remove(const std::string& id);
    /// The last actor registered as `name`.
    std::optional<actor_entry> find(const std::string& name) const;
    /// Every entry, oldest first.
    std::vector<actor_entry> list() const;
    /// A future completed with the entry once `name` is registered (at once if it is).
    future<actor_entry> when_registered(const std::string& name);
    /// A watcher of `name`, primed with the current entries as `appeared` events.
    std::shared_ptr<watcher> watch(const std::string& name);
    void unwatch(const std::shared_ptr<watcher>& w);

private:
    void notify(const registry_event& ev);

    mutable std::mutex lock_;
    std::vector<actor_entry> entries_;
    std::vector<std::pair<std::string, promise<actor_entry>>> waiting_;
    std::vector<std::shared_ptr<watcher>> watchers_;
};

/// Makes this process the registrar (the table its exposed functions use). Idempotent.
registry_table& host_registry();
/// True if this process hosts the registrar.
bool hosts_registry() noexcept;

}  // namespace troupe::remote::detail
