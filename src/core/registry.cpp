#include <troupe/core/registry.hpp>

#include <algorithm>

namespace troupe {

registry::~registry() {
    // Whatever is left (a system shut down with actors that never ran) gives its reference back.
    for (auto& [id, c] : cells_) {
        c->release();
    }
}

void registry::add(detail::cell_base& c) {
    c.add_ref();
    std::lock_guard lock(mutex_);
    cells_.emplace(c.id(), &c);
}

void registry::remove(detail::cell_base& c) noexcept {
    // The entry's reference is not released here: the caller (the actor's last turn) owns it now.
    std::lock_guard lock(mutex_);
    cells_.erase(c.id());
}

std::size_t registry::size() const {
    std::lock_guard lock(mutex_);
    return cells_.size();
}

void registry::visit(const std::function<void(detail::cell_base&)>& f) const {
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : cells_) {
        f(*c);
    }
}

void registry::visit_one(std::uint64_t id, const std::function<void(detail::cell_base&)>& f) const {
    std::lock_guard lock(mutex_);
    if (auto it = cells_.find(id); it != cells_.end()) {
        f(*it->second);
    }
}

std::vector<detail::counted_ptr<detail::cell_base>> registry::snapshot() const {
    std::vector<detail::counted_ptr<detail::cell_base>> out;
    std::lock_guard lock(mutex_);
    out.reserve(cells_.size());
    for (auto& [id, c] : cells_) {
        out.emplace_back(c);
    }
    return out;
}

std::vector<address> registry::all() const {
    std::vector<address> out;
    for (auto& c : snapshot()) {
        out.emplace_back(detail::counted_ptr<detail::endpoint>(c.get()));
    }
    return out;
}

std::vector<address> registry::by_name(std::string_view name) const {
    std::vector<address> out;
    for (auto& c : snapshot()) {
        std::string full = c->name();
        std::string_view base(full);
        base = base.substr(0, base.rfind('#'));
        if (base == name || full == name) {
            out.emplace_back(detail::counted_ptr<detail::endpoint>(c.get()));
        }
    }
    return out;
}

std::optional<address> registry::by_id(std::uint64_t id) const {
    std::optional<address> out;
    visit_one(id, [&](detail::cell_base& c) { out.emplace(detail::counted_ptr<detail::endpoint>(&c)); });
    return out;
}

std::vector<bool> registry::stop_all() {
    auto cells = snapshot();
    std::vector<bool> results;
    results.reserve(cells.size());
    std::for_each(cells.rbegin(), cells.rend(), [&](auto& c) { results.push_back(ref<actor>(c).stop()); });
    return results;
}

std::vector<future<bool>> registry::stop_all_async() {
    auto cells = snapshot();
    std::vector<future<bool>> results;
    results.reserve(cells.size());
    std::for_each(cells.rbegin(), cells.rend(), [&](auto& c) { results.push_back(ref<actor>(c).stop_async()); });
    return results;
}

}  // namespace troupe
