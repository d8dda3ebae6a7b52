#pragma once
/// \file
/// service: what a layer runs beside a system's actors (an I/O loop, a blocking pool, a
/// transport, a broker client), owned by one system. `sys.service<S>()` makes it on first use;
/// system::shutdown() shuts the services down, newest first, once every actor has ended.

#include <memory>

namespace troupe {

class system;

namespace detail {
class service_registry;
}  // namespace detail

/// The base of a per-system service. A class S derived from it is made by the first
/// `sys.service<S>()` (from the system, if S has a constructor taking `troupe::system&`; else
/// by its default constructor), lives as long as the system, and is shut down once by
/// system::shutdown(): after every actor of the system has ended, before the timers and the
/// workers stop, services made later first (a service that uses another asks for it in its
/// constructor, so it is made after it and shut down before it).
class service {
public:
    service() = default;
    virtual ~service() = default;
    service(const service&) = delete;
    service& operator=(const service&) = delete;

protected:
    /// Ends the service's work for good: joins its threads, drops what it had queued, refuses
    /// what comes later. The system's timers, workers and older services still run. An
    /// exception is logged and the next service is shut down all the same.
    virtual void shutdown() = 0;

private:
    friend class detail::service_registry;
};

namespace detail {
/// Makes a service for a system (system::service<S>() passes one per class S).
using service_factory = std::unique_ptr<troupe::service> (*)(troupe::system& sys);
}  // namespace detail

}  // namespace troupe
