#pragma once
/// \file
/// process_child: a supervisor's child that is an actor in a process of its own. The supervisors
/// of troupe::supervision supervise it exactly like a local child: every start (the first and
/// each restart) starts a fresh process actor (this executable again) and spawns the actor in
/// it from the same arguments; restart policies, intensity, strategies and escalation apply
/// unchanged.
///
///     troupe::supervisor_spec spec;
///     spec.children.push_back(troupe::process_child<worker>("worker", {}, 42));
///     auto sup = sys.spawn<troupe::supervisor>(std::move(spec));
///
/// The actor's end is its process's: when the actor ends (stopped, failed, killed), its process
/// is ended and reaped before the supervisor is told; when the process dies (a crash, SIGKILL),
/// the actor ends with a failure of type troupe::actor_dead, which a permanent or transient
/// child restarts. A, its constructor's parameters and its messages are as for portal.spawn
/// (troupe/remote/actor.hpp): A exposed with TROUPE_EXPOSE_ACTOR for those parameters.

#include <troupe/core/actor.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/remote/actor.hpp>
#include <troupe/remote/actor_nursery.hpp>
#include <troupe/supervision/child_spec.hpp>
#include <troupe/wire/codec.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

namespace remote::detail {
/// Starts a process actor named `process_name` for one actor of the class named `type`, spawns
/// that actor in it, and makes it a child of `parent`. Throws troupe::process_error if the
/// process cannot be started.
ref<actor> start_process_child(const context& parent, const std::string& process_name, const process_options& process,
                               const actor_nursery_options& timeouts, std::string type, const spawn_options& options,
                               const std::vector<std::byte>& args);
}  // namespace remote::detail

/// A child spec whose every start is a new process actor named `name` (options `process`) with
/// an actor of class A constructed there from copies of `args`, taken now. The process is ended
/// as an actor nursery ends its children (cancel, then SIGTERM, then SIGKILL, after the default
/// actor_nursery_options). Set the actor's spawn options and restart policy on the spec as for
/// troupe::child.
template <class A, class... Args>
child_spec process_child(std::string name, process_options process, Args&&... args) {
    static_assert(std::is_base_of_v<actor, A>, "troupe::process_child<A>: A must derive from troupe::actor");
    static_assert(troupe::detail::has_handles_list<A>::value,
                  "troupe::process_child<A>: declare `using handles = troupe::handles<Message...>;` in A: an actor "
                  "in another process is reached through it");
    static_assert(std::is_constructible_v<A, const std::decay_t<Args>&...>,
                  "troupe::process_child<A>(name, process, args...): A must be constructible from the arguments");
    using arguments = std::tuple<std::decay_t<Args>...>;
    static_assert(wire::serialisable<arguments>,
                  "troupe::process_child<A>: every constructor argument must be serialisable");
    auto encoded = std::make_shared<const std::vector<std::byte>>(wire::encode(arguments(std::forward<Args>(args)...)));
    child_spec::starter start = [name, process = std::move(process), encoded](const context& parent,
                                                                              const spawn_options& options) {
        return remote::detail::start_process_child(parent, name, process, actor_nursery_options{}, typeid(A).name(),
                                                   options, *encoded);
    };
    return child_spec(std::move(name), typeid(A), std::move(start));
}

}  // namespace troupe
