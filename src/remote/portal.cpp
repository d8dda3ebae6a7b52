#include <troupe/remote/portal.hpp>

#include "remote/child.hpp"
#include "remote/peer.hpp"
#include "remote/registry.hpp"
#include "remote/runtime.hpp"

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/discovery.hpp>

namespace troupe {

namespace remote::detail {

std::string target_name(std::string_view ns, std::string_view name) {
    std::string target(ns);
    target.append(".").append(name);
    return target;
}

const exposed_function& exposed_entry(any_function fn) {
    const exposed_function* entry = find_exposed(fn);
    if (entry == nullptr) {
        throw error("portal: this function is not exposed in this executable (TROUPE_EXPOSE)");
    }
    return *entry;
}

}  // namespace remote::detail

remote::detail::peer& portal::connection() const {
    if (!peer_) {
        throw error("this troupe::portal is empty");
    }
    return *peer_;
}

future<void> portal::cancel_actor() const {
    if (child_) {
        return child_->stop();
    }
    return connection().cancel_actor();
}

std::string portal::name() const {
    return peer_ ? peer_->name() : std::string();
}

std::string start_registrar(troupe::system& sys) {
    auto& runtime = sys.service<remote::detail::process_runtime>();
    remote::detail::host_registry();
    return runtime.registrar_address().to_string();
}

namespace remote::detail {

future<portal> registrar_of(troupe::system& sys) {
    return sys.service<process_runtime>().registrar();
}

future<portal> portal_to(troupe::system& sys, const actor_entry& entry) {
    return sys.service<process_runtime>().portal_to(address::parse(entry.address));
}

troupe::system& running_system(const char* what) {
    troupe::detail::cell_base* cell = troupe::detail::running_cell();
    if (cell == nullptr) {
        throw error(std::string(what) + " is used inside an actor's coroutine");
    }
    return cell->system();
}

}  // namespace remote::detail

}  // namespace troupe
