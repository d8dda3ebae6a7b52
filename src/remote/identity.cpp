#include "remote/identity.hpp"

#include <troupe/core/log.hpp>
#include <troupe/remote/run.hpp>

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <random>

namespace troupe::remote::detail {

namespace {
std::string fresh_id(std::int64_t pid) {
    std::random_device rd;
    const std::uint64_t r = (std::uint64_t{rd()} << 32) ^ rd();
    char text[48];
    std::snprintf(text, sizeof text, "%lld-%016llx", static_cast<long long>(pid), static_cast<unsigned long long>(r));
    return text;
}
identity& mutable_identity() {
    static identity self = [] {
        identity i;
        i.pid = ::getpid();
        i.id = fresh_id(i.pid);
        return i;
    }();
    return self;
}
}  // namespace

std::string identity::full_name() const {
    return name + "#" + std::to_string(number) + "@" + std::to_string(pid);
}

const identity& self_identity() {
    return mutable_identity();
}

void set_identity(std::string name, std::uint64_t number) {
    identity& self = mutable_identity();
    self.name = std::move(name);
    self.number = number;
}

void set_root_name(std::string name) {
    set_identity(std::move(name), 0);
    name_logs();
}

void name_logs() {
    // Every line names the process actor it comes from: with children writing to the same
    // terminal, "[donny#2@4121]" tells them apart.
    logger()->set_pattern("[%H:%M:%S.%e] [" + self_identity().full_name() + "] [%l] %v");
}

}  // namespace troupe::remote::detail

namespace troupe {
std::string process_actor_name() {
    return remote::detail::self_identity().name;
}
std::string process_actor_full_name() {
    return remote::detail::self_identity().full_name();
}
}  // namespace troupe
