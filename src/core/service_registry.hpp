#pragma once
// The services of one system, in the order they were made.

#include <troupe/core/service.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

namespace troupe::detail {

class service_registry {
public:
    service_registry() = default;
    /// Destroys the services, newest first.
    ~service_registry();
    service_registry(const service_registry&) = delete;
    service_registry& operator=(const service_registry&) = delete;

    /// The service of class `type`, made by `make(sys)` if there is none yet. Throws
    /// troupe::error once shut down (for a service not made by then), or when a service's
    /// constructor asks for that same service; an exception from `make` leaves no service.
    troupe::service& find_or_make(troupe::system& sys, const std::type_info& type, service_factory make);
    /// Shuts every service down, newest first, each once; no service is made afterwards.
    void shutdown() noexcept;

private:
    struct entry {
        const std::type_info* type;
        std::unique_ptr<troupe::service> instance;
    };

    // Recursive: a service's constructor may ask for the services it uses. Held while a
    // service is made, so that a second thread asking for it waits and finds it made.
    std::recursive_mutex mutex_;
    std::vector<entry> entries_;                 // oldest first; frozen once closed_ is set
    std::vector<const std::type_info*> making_;  // services whose constructor runs (nested)
    bool closed_ = false;
};

}  // namespace troupe::detail
