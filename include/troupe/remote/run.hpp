#pragma once
/// \file
/// troupe::run: the main of a program with process actors.
///
///     int main(int argc, char** argv) {
///         return troupe::run(argc, argv, [](troupe::system& sys) {
///             troupe::open_actor_nursery(sys, [](troupe::actor_nursery& an) -> troupe::task<void> { ... });
///             return 0;
///         });
///     }
///
/// Started by a user, the process is the root actor: `entry` runs (with a system made for it,
/// if it takes one) and its result is the exit code. Started by an actor_nursery as a child (the
/// same executable again, with bootstrap arguments that run recognises), `entry` does not run:
/// the process serves its parent's calls over the connection it inherited, and exits once it
/// has been cancelled or its parent has gone.

#include <troupe/core/system.hpp>

#include <string>
#include <type_traits>
#include <utility>

namespace troupe {

/// How the root process actor is named and its system made.
struct run_options {
    /// The root actor's name in logs ("root#0@4121").
    std::string name = "root";
    /// For the system run makes, if `entry` takes one.
    system_options system{};
};

namespace remote::detail {
/// True if argv carries the bootstrap arguments of a child process actor.
bool is_child(int argc, char** argv) noexcept;
/// Serves as a child process actor until cancelled; the process's exit code.
int run_child(int argc, char** argv);
/// Names this process as a root actor.
void set_root_name(std::string name);
}  // namespace remote::detail

/// Runs `entry` as the root actor, or serves as a child process actor (see the file comment).
/// `entry` is callable as `entry(troupe::system&)` or `entry()`, and returns an int (the exit
/// code) or nothing (0).
template <class F>
int run(int argc, char** argv, F entry, run_options options = {}) {
    if (remote::detail::is_child(argc, argv)) {
        return remote::detail::run_child(argc, argv);
    }
    remote::detail::set_root_name(options.name);
    if constexpr (std::is_invocable_v<F&, troupe::system&>) {
        troupe::system sys(std::move(options.system));
        if constexpr (std::is_void_v<std::invoke_result_t<F&, troupe::system&>>) {
            entry(sys);
            return 0;
        } else {
            return entry(sys);
        }
    } else {
        static_assert(std::is_invocable_v<F&>,
                      "troupe::run: entry must be callable as entry(troupe::system&) or entry()");
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            entry();
            return 0;
        } else {
            return entry();
        }
    }
}

}  // namespace troupe
