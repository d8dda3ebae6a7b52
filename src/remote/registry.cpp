#include "remote/registry.hpp"

#include <troupe/async/await.hpp>
#include <troupe/async/cancel_scope.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/remote/expose.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>

namespace troupe::remote::detail {

namespace {
std::atomic<registry_table*> hosted{nullptr};

registry_table& table() {
    registry_table* t = hosted.load(std::memory_order_acquire);
    if (t == nullptr) {
        throw error("this process actor is not a registrar");
    }
    return *t;
}

void wake(registry_table::watcher& w) {
    std::optional<promise<void>> waiting;
    {
        const std::lock_guard guard(w.lock);
        waiting.swap(w.waiting);
    }
    if (waiting) {
        waiting->set_value();
    }
}
}  // namespace

registry_table& host_registry() {
    static registry_table the_table;
    registry_table* expected = nullptr;
    hosted.compare_exchange_strong(expected, &the_table, std::memory_order_acq_rel);
    return the_table;
}

bool hosts_registry() noexcept {
    return hosted.load(std::memory_order_acquire) != nullptr;
}

void registry_table::add(const actor_entry& e) {
    std::vector<promise<actor_entry>> woken;
    {
        const std::lock_guard guard(lock_);
        entries_.push_back(e);
        for (auto it = waiting_.begin(); it != waiting_.end();) {
            if (it->first == e.name) {
                woken.push_back(std::move(it->second));
                it = waiting_.erase(it);
            } else {
                ++it;
            }
        }
    }
    logger()->info("troupe: registrar: {} registered at {}", e.full_name, e.address);
    for (auto& p : woken) {
        p.set_value(e);
    }
    notify(registry_event{true, e});
}

void registry_table::remove(const std::string& id) {
    std::optional<actor_entry> gone;
    {
        const std::lock_guard guard(lock_);
        auto it = std::find_if(entries_.begin(), entries_.end(), [&](const actor_entry& e) { return e.id == id; });
        if (it == entries_.end()) {
            return;
        }
        gone = *it;
        entries_.erase(it);
    }
    logger()->info("troupe: registrar: {} unregistered", gone->full_name);
    notify(registry_event{false, *gone});
}

std::optional<actor_entry> registry_table::find(const std::string& name) const {
    const std::lock_guard guard(lock_);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->name == name) {
            return *it;
        }
    }
    return std::nullopt;
}

std::vector<actor_entry> registry_table::list() const {
    const std::lock_guard guard(lock_);
    return entries_;
}

future<actor_entry> registry_table::when_registered(const std::string& name) {
    const std::lock_guard guard(lock_);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->name == name) {
            return make_ready_future(*it);
        }
    }
    waiting_.emplace_back(name, promise<actor_entry>());
    return waiting_.back().second.get_future();
}

std::shared_ptr<registry_table::watcher> registry_table::watch(const std::string& name) {
    auto w = std::make_shared<watcher>();
    w->name = name;
    const std::lock_guard guard(lock_);
    for (const auto& e : entries_) {
        if (name.empty() || e.name == name) {
            w->events.push_back(registry_event{true, e});
        }
    }
    watchers_.push_back(w);
    return w;
}

void registry_table::unwatch(const std::shared_ptr<watcher>& w) {
    const std::lock_guard guard(lock_);
    std::erase(watchers_, w);
}

void registry_table::notify(const registry_event& ev) {
    std::vector<std::shared_ptr<watcher>> to_wake;
    {
        const std::lock_guard guard(lock_);
        for (const auto& w : watchers_) {
            if (w->name.empty() || w->name == ev.actor.name) {
                const std::lock_guard wg(w->lock);
                w->events.push_back(ev);
                to_wake.push_back(w);
            }
        }
    }
    for (const auto& w : to_wake) {
        wake(*w);
    }
}

// --- the registrar's exposed functions --------------------------------------------------------

namespace registrar {

/// Registers `e` for as long as this context runs: the caller keeps it open for its lifetime,
/// so the entry goes when its connection does, however its process ended. It starts once the
/// entry is in the table, so whatever the caller asks after that finds it.
task<void> hold(stream_context& ctx, actor_entry e) {
    registry_table& t = table();
    t.add(e);
    struct unregister {
        registry_table& t;
        std::string id;
        ~unregister() { t.remove(id); }
    } guard{t, e.id};
    co_await ctx.started();
    for (;;) {
        co_await troupe::sleep_for(std::chrono::hours(24));
    }
}

std::optional<actor_entry> find(std::string name) {
    return table().find(name);
}

std::vector<actor_entry> list() {
    return table().list();
}

task<std::optional<actor_entry>> wait_for(std::string name, std::int64_t timeout_ms) {
    future<actor_entry> registered = table().when_registered(name);
    auto waited = [](future<actor_entry> f) -> task<actor_entry> { co_return co_await f; };
    co_return co_await troupe::move_on_after(std::chrono::milliseconds(timeout_ms), waited(std::move(registered)));
}

generator<registry_event> watch(std::string name) {
    registry_table& t = table();
    std::shared_ptr<registry_table::watcher> w = t.watch(name);
    struct unwatch {
        registry_table& t;
        std::shared_ptr<registry_table::watcher> w;
        ~unwatch() { t.unwatch(w); }
    } guard{t, w};
    for (;;) {
        std::optional<registry_event> next;
        future<void> more;
        {
            const std::lock_guard lock(w->lock);
            if (!w->events.empty()) {
                next = std::move(w->events.front());
                w->events.pop_front();
            } else {
                w->waiting.emplace();
                more = w->waiting->get_future();
            }
        }
        if (next) {
            co_yield std::move(*next);
        } else {
            co_await more;
        }
    }
}

}  // namespace registrar

TROUPE_EXPOSE_AS("troupe.registrar", "hold", &registrar::hold);
TROUPE_EXPOSE_AS("troupe.registrar", "find", &registrar::find);
TROUPE_EXPOSE_AS("troupe.registrar", "list", &registrar::list);
TROUPE_EXPOSE_AS("troupe.registrar", "wait_for", &registrar::wait_for);
TROUPE_EXPOSE_AS("troupe.registrar", "watch", &registrar::watch);

}  // namespace troupe::remote::detail
