#pragma once
/// \file
/// registry: every live actor of a system, by start order, type and id; broadcast; stop all.

#include <troupe/core/address.hpp>
#include <troupe/core/detail/cell.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/ref.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace troupe {

/// The live actors of one system. An actor is listed from spawn (before on_start) until its
/// stop begins (before on_stop). Every query returns a snapshot.
class registry {
public:
    registry() = default;
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;
    ~registry();

    /// The number of live actors.
    std::size_t size() const;
    /// Every live actor, oldest first, as untyped addresses.
    std::vector<address> all() const;
    /// Every live actor whose class is A or derives from A, oldest first.
    template <class A>
    std::vector<ref<A>> by_type() const {
        std::vector<ref<A>> out;
        visit([&](detail::cell_base& c) {
            // The object is alive: cells leave the registry before their actor is destroyed.
            if (dynamic_cast<A*>(&c.object()) != nullptr) {
                out.emplace_back(detail::counted_ptr<detail::cell_base>(&c));
            }
        });
        return out;
    }
    /// Every live actor whose name (class name, or the name given at spawn) is `name`.
    std::vector<address> by_name(std::string_view name) const;
    /// The live actor with this id, if any.
    std::optional<address> by_id(std::uint64_t id) const;
    /// The live actor with this id, if any and if its class is A or derives from A.
    template <class A>
    std::optional<ref<A>> by_id(std::uint64_t id) const {
        std::optional<ref<A>> out;
        visit_one(id, [&](detail::cell_base& c) {
            if (dynamic_cast<A*>(&c.object()) != nullptr) {
                out.emplace(detail::counted_ptr<detail::cell_base>(&c));
            }
        });
        return out;
    }
    /// Tells `msg` to every live actor of class A (or derived); returns how many took it.
    template <class A, class M>
    std::size_t broadcast(const M& msg) const {
        std::size_t n = 0;
        for (auto& r : by_type<A>()) {
            try {
                r.tell(msg);
                ++n;
            } catch (const actor_dead&) {
                // It stopped after the snapshot: not a receiver any more.
            }
        }
        return n;
    }
    /// Stops every live actor, newest first, each stop finished before the next begins.
    /// Returns one result per actor, as ref::stop() does.
    std::vector<bool> stop_all();
    /// Requests every stop, newest first, without waiting; futures of ref::stop()'s results.
    std::vector<future<bool>> stop_all_async();

    /// Requests every stop, newest first, without waiting or keeping futures.
    void request_stop_all();
    /// Blocks until no actor is left, not even one still running its on_stop.
    void wait_until_empty() const;

    /// For the runtime: lists a new actor. Throws troupe::error once closed.
    void add(detail::cell_base& c);
    /// For the runtime: refuses every later add (system shutdown).
    void close() noexcept;
    /// For the runtime: unlists an actor that is ending (before its on_stop).
    void remove(detail::cell_base& c) noexcept;
    /// For the runtime: an unlisted actor has ended for good (after its on_stop).
    void ended() noexcept;

private:
    void visit(const std::function<void(detail::cell_base&)>& f) const;
    void visit_one(std::uint64_t id, const std::function<void(detail::cell_base&)>& f) const;
    std::vector<detail::counted_ptr<detail::cell_base>> snapshot() const;

    mutable std::mutex mutex_;
    mutable std::condition_variable emptied_;
    // An intrusive list through the cells' registry hooks, oldest first; each entry holds one
    // reference. A list, not a map: adding and removing are O(1) and cost no allocation.
    detail::cell_base* oldest_ = nullptr;
    detail::cell_base* newest_ = nullptr;
    std::size_t size_ = 0;
    std::size_t ending_ = 0;  // unlisted, on_stop not yet over
    bool closed_ = false;
};

}  // namespace troupe
