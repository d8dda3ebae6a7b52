// A system's services: made on first use, shut down newest first, destroyed newest first.

#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/system.hpp>

#include "service_registry.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace troupe::detail {

service_registry::~service_registry() {
    while (!entries_.empty()) {
        entries_.pop_back();
    }
}

troupe::service& service_registry::find_or_make(troupe::system& sys, const std::type_info& type, service_factory make) {
    std::lock_guard lock(mutex_);
    for (const entry& e : entries_) {
        if (*e.type == type) {
            return *e.instance;
        }
    }
    if (std::find_if(making_.begin(), making_.end(), [&](const std::type_info* t) { return *t == type; }) !=
        making_.end()) {
        throw error("the service " + type_name(type) + " asks for itself while it is being made");
    }
    if (closed_) {
        throw error("system '" + sys.name() + "' is shut down: it makes no more services (" + type_name(type) + ")");
    }
    // Listed once made: the services its constructor asks for are listed before it, so they
    // are shut down after it.
    making_.push_back(&type);
    std::unique_ptr<troupe::service> made;
    try {
        made = make(sys);
    } catch (...) {
        making_.pop_back();
        throw;
    }
    making_.pop_back();
    entries_.push_back({&type, std::move(made)});
    return *entries_.back().instance;
}

void service_registry::shutdown() noexcept {
    {
        std::lock_guard lock(mutex_);
        if (closed_) {
            return;
        }
        closed_ = true;
    }
    // The list is frozen now: walk it without the lock, so that a service's thread may still
    // look up the services (older ones, say) while this one waits for it to end.
    for (auto e = entries_.rbegin(); e != entries_.rend(); ++e) {
        try {
            e->instance->shutdown();
        } catch (const std::exception& x) {
            try {
                troupe::logger()->error("the service {} threw while shutting down: {}", type_name(*e->type), x.what());
            } catch (...) {}
        } catch (...) {
            try {
                troupe::logger()->error("the service {} threw while shutting down", type_name(*e->type));
            } catch (...) {}
        }
    }
}

}  // namespace troupe::detail
