#include <troupe/remote/detail/invoke.hpp>

#include <troupe/core/errors.hpp>

#include <mutex>
#include <string>
#include <vector>

namespace troupe::remote::detail {

namespace {
/// The allow-list: a handful of entries, filled at static initialisation and read afterwards.
struct allow_list {
    std::mutex lock;
    std::vector<const exposed_function*> entries;
};
allow_list& table() {
    static allow_list list;  // function-local: usable from other translation units' initialisers
    return list;
}
}  // namespace

void expose(const exposed_function& fn) {
    allow_list& list = table();
    const std::lock_guard guard(list.lock);
    for (const exposed_function* e : list.entries) {
        if (e->address == fn.address) {
            throw troupe::error("TROUPE_EXPOSE: " + std::string(fn.ns) + "." + std::string(fn.name) +
                                " is exposed twice (already as " + std::string(e->ns) + "." + std::string(e->name) +
                                ")");
        }
        if (e->ns == fn.ns && e->name == fn.name) {
            throw troupe::error("TROUPE_EXPOSE: two functions are exposed as " + std::string(fn.ns) + "." +
                                std::string(fn.name));
        }
    }
    list.entries.push_back(&fn);
}

const exposed_function* find_exposed(std::string_view ns, std::string_view name) noexcept {
    allow_list& list = table();
    const std::lock_guard guard(list.lock);
    for (const exposed_function* e : list.entries) {
        if (e->ns == ns && e->name == name) {
            return e;
        }
    }
    return nullptr;
}

const exposed_function* find_exposed(any_function address) noexcept {
    allow_list& list = table();
    const std::lock_guard guard(list.lock);
    for (const exposed_function* e : list.entries) {
        if (e->address == address) {
            return e;
        }
    }
    return nullptr;
}

}  // namespace troupe::remote::detail
