// A supervisor's child in a process of its own (troupe/remote/process_child.hpp).

#include <troupe/remote/process_child.hpp>

#include <troupe/remote/errors.hpp>

#include "remote/child.hpp"
#include "remote/peer.hpp"

#include <utility>

namespace troupe::remote::detail {

ref<actor> start_process_child(const context& parent, const std::string& process_name, const process_options& process,
                               const actor_nursery_options& timeouts, std::string type, const spawn_options& options,
                               const std::vector<std::byte>& args) {
    std::shared_ptr<child> c = spawn_child(parent.system(), process_name, process, timeouts);
    spawned_remote s = spawn_remote(c->connection(), std::move(type), options, args, c);
    if (!s.actor) {
        (void)c->stop();
        throw process_error(c->name() + ": its connection closed as it started (" + c->connection()->close_reason() +
                            ")");
    }
    ref<actor> r(std::move(s.actor));
    try {
        parent.adopt(r);
    } catch (...) {
        r.kill();  // nobody would own it: it ends, and its process with it
        throw;
    }
    return r;
}

}  // namespace troupe::remote::detail
