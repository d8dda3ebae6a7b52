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
#include <vector>

namespace troupe {

/// How the root process actor is named and its system made.
struct run_options {
    /// The root actor's name in logs and in the registry ("root#0@4121").
    std::string name = "root";
    /// For the system run makes, if `entry` takes one.
    system_options system{};
    /// The registrar to join ("unix:/path", "tcp:host:port"): this process registers with it
    /// at once and its children use it too (a process started on its own joining a running
    /// tree). Empty: this root is the registrar of its tree, started when first needed.
    std::string registrar{};
    /// Where this process accepts connections from other process actors ("tcp:10.0.0.2:0"
    /// to be reachable from other hosts). Empty: a Unix socket in a private directory.
    std::string listen{};
    /// The namespaces of exposed functions this root serves to other process actors.
    std::vector<std::string> enable{};
};

namespace remote::detail {
/// True if argv carries the bootstrap arguments of a child process actor.
bool is_child(int argc, char** argv) noexcept;
/// Serves as a child process actor until cancelled; the process's exit code.
int run_child(int argc, char** argv);
/// Names this process as a root actor.
void set_root_name(std::string name);
/// Applies the options of a root process actor (before anything uses them).
void configure_root(const run_options& options);
/// Registers this root with the registrar it joins (run_options::registrar), if any.
void join_registrar(troupe::system& sys);
}  // namespace remote::detail

/// This process actor's name ("donny"), as its parent (or run_options) named it.
std::string process_actor_name();
/// Its full name in logs and errors ("donny#2@4121").
std::string process_actor_full_name();

/// Runs `entry` as the root actor, or serves as a child process actor (see the file comment).
/// `entry` is callable as `entry(troupe::system&)` or `entry()`, and returns an int (the exit
/// code) or nothing (0).
template <class F>
int run(int argc, char** argv, F entry, run_options options = {}) {
    if (remote::detail::is_child(argc, argv)) {
        return remote::detail::run_child(argc, argv);
    }
    remote::detail::set_root_name(options.name);
    remote::detail::configure_root(options);
    if constexpr (std::is_invocable_v<F&, troupe::system&>) {
        troupe::system sys(std::move(options.system));
        remote::detail::join_registrar(sys);
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
