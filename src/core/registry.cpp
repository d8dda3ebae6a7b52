#include <troupe/core/registry.hpp>

#include <troupe/core/errors.hpp>

#include <algorithm>

namespace troupe {

registry::~registry() {
    // Whatever is left (a system shut down with actors that never ran) gives its reference back.
    for (detail::cell_base* c = oldest_; c != nullptr;) {
        detail::cell_base* next = c->registry_hook_.newer;
        c->release();
        c = next;
    }
}

void registry::add(detail::cell_base& c) {
    std::lock_guard lock(mutex_);
    if (closed_) {
        throw error("the system is shut down: it starts no more actors");
    }
    c.add_ref();
    c.registry_hook_.older = newest_;
    c.registry_hook_.newer = nullptr;
    if (newest_ != nullptr) {
        newest_->registry_hook_.newer = &c;
    } else {
        oldest_ = &c;
    }
    newest_ = &c;
    ++size_;
}

void registry::remove(detail::cell_base& c) noexcept {
    // The entry's reference is not released here: the caller (the actor's last turn) owns it now.
    std::lock_guard lock(mutex_);
    auto& hook = c.registry_hook_;
    (hook.older != nullptr ? hook.older->registry_hook_.newer : oldest_) = hook.newer;
    (hook.newer != nullptr ? hook.newer->registry_hook_.older : newest_) = hook.older;
    hook = {};
    --size_;
    ++ending_;
}

void registry::close() noexcept {
    std::lock_guard lock(mutex_);
    closed_ = true;
}

void registry::ended() noexcept {
    std::lock_guard lock(mutex_);
    if (--ending_ == 0 && size_ == 0) {
        emptied_.notify_all();
    }
}

void registry::wait_until_empty() const {
    std::unique_lock lock(mutex_);
    emptied_.wait(lock, [this] { return size_ == 0 && ending_ == 0; });
}

std::size_t registry::size() const {
    std::lock_guard lock(mutex_);
    return size_;
}

void registry::visit(const std::function<void(detail::cell_base&)>& f) const {
    std::lock_guard lock(mutex_);
    for (detail::cell_base* c = oldest_; c != nullptr; c = c->registry_hook_.newer) {
        f(*c);
    }
}

void registry::visit_one(std::uint64_t id, const std::function<void(detail::cell_base&)>& f) const {
    std::lock_guard lock(mutex_);
    for (detail::cell_base* c = oldest_; c != nullptr; c = c->registry_hook_.newer) {
        if (c->id() == id) {
            f(*c);
            return;
        }
    }
}

std::vector<detail::counted_ptr<detail::cell_base>> registry::snapshot() const {
    std::vector<detail::counted_ptr<detail::cell_base>> out;
    std::lock_guard lock(mutex_);
    out.reserve(size_);
    for (detail::cell_base* c = oldest_; c != nullptr; c = c->registry_hook_.newer) {
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

void registry::request_stop_all() {
    auto cells = snapshot();
    std::for_each(cells.rbegin(), cells.rend(), [](auto& c) { c->request_stop(); });
}

std::vector<future<bool>> registry::stop_all_async() {
    auto cells = snapshot();
    std::vector<future<bool>> results;
    results.reserve(cells.size());
    std::for_each(cells.rbegin(), cells.rend(), [&](auto& c) { results.push_back(ref<actor>(c).stop_async()); });
    return results;
}

}  // namespace troupe
