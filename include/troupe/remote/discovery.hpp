#pragma once
/// \file
/// Discovery: a registrar maps process actors' names to their addresses. Every process actor
/// of a tree registers with it while it lives (and is dropped from it when it ends, killed
/// included, because its registration lasts exactly as long as its connection to the
/// registrar). The root actor is the registrar unless told to join another one
/// (run_options::registrar, or a standalone `troupe registrar`).
///
///     std::optional<troupe::portal> p = co_await troupe::find_actor("gretchen");   // nullopt if unknown
///     troupe::portal q = co_await troupe::wait_for_actor("gretchen", 5s);          // waits until it registers
///     auto changes = co_await troupe::watch_actors("gretchen");                     // appeared / vanished events

#include <troupe/async/task.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/portal.hpp>
#include <troupe/remote/stream.hpp>
#include <troupe/wire/record.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe {

/// One registered process actor.
struct actor_entry {
    /// Its name ("gretchen"): what find_actor looks for. Names need not be unique: the last
    /// registered wins.
    std::string name{};
    /// Its full name ("gretchen#2@4121").
    std::string full_name{};
    /// Its unique id.
    std::string id{};
    /// Where it accepts connections ("unix:/tmp/troupe-0/4121-....sock", "tcp:10.0.0.2:40513").
    std::string address{};

    bool operator==(const actor_entry&) const = default;
};
TROUPE_RECORD(actor_entry, name, full_name, id, address);

/// A change in the registry.
struct registry_event {
    /// True when the actor appeared, false when it went away.
    bool appeared = true;
    /// Which actor.
    actor_entry actor{};

    bool operator==(const registry_event&) const = default;
};
TROUPE_RECORD(registry_event, appeared, actor);

namespace remote::detail {
/// A portal on the registrar this process uses (connecting to it the first time).
future<portal> registrar_of(troupe::system& sys);
/// A portal on the actor at `entry` (reusing a connection to it if there is one).
future<portal> portal_to(troupe::system& sys, const actor_entry& entry);
/// The system of the actor running this coroutine; throws troupe::error outside actors.
troupe::system& running_system(const char* what);
}  // namespace remote::detail

/// Makes this process its tree's registrar, listening where run_options::listen says (or on
/// a Unix socket in a private directory), and gives the address others join it by. A root
/// does this by itself when first needed; `troupe registrar` does it at once. Idempotent.
std::string start_registrar(troupe::system& sys);

/// The entry of the actor registered as `name`, or nullopt. Inside an actor.
inline task<std::optional<actor_entry>> query_actor(std::string name) {
    troupe::system& sys = remote::detail::running_system("troupe::query_actor");
    portal registrar = co_await remote::detail::registrar_of(sys);
    co_return co_await registrar.run<std::optional<actor_entry>>("troupe.registrar", "find", name);
}

/// A portal on the process actor registered as `name`, or nullopt if there is none. Inside
/// an actor.
inline task<std::optional<portal>> find_actor(std::string name) {
    troupe::system& sys = remote::detail::running_system("troupe::find_actor");
    std::optional<actor_entry> entry = co_await query_actor(std::move(name));
    if (!entry) {
        co_return std::nullopt;
    }
    co_return co_await remote::detail::portal_to(sys, *entry);
}

/// A portal on the process actor registered as `name`, once there is one; throws
/// troupe::timeout if none registers within `timeout`. Inside an actor.
inline task<portal> wait_for_actor(std::string name, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    troupe::system& sys = remote::detail::running_system("troupe::wait_for_actor");
    portal registrar = co_await remote::detail::registrar_of(sys);
    const auto wait_ms = static_cast<std::int64_t>(timeout.count());
    std::optional<actor_entry> entry =
        co_await registrar.run<std::optional<actor_entry>>("troupe.registrar", "wait_for", name, wait_ms);
    if (!entry) {
        throw troupe::timeout("wait_for_actor: no actor named '" + name + "' registered within " +
                              std::to_string(wait_ms) + " ms");
    }
    co_return co_await remote::detail::portal_to(sys, *entry);
}

/// The registry's changes for actors named `name` (every name if empty): first one `appeared`
/// event per actor registered now, then each change as it happens. Inside an actor.
inline task<remote_stream<registry_event>> watch_actors(std::string name = {}) {
    troupe::system& sys = remote::detail::running_system("troupe::watch_actors");
    portal registrar = co_await remote::detail::registrar_of(sys);
    co_return registrar.open_stream<registry_event>("troupe.registrar", "watch", name);
}

/// Every registered process actor. Inside an actor.
inline task<std::vector<actor_entry>> registered_actors() {
    troupe::system& sys = remote::detail::running_system("troupe::registered_actors");
    portal registrar = co_await remote::detail::registrar_of(sys);
    co_return co_await registrar.run<std::vector<actor_entry>>("troupe.registrar", "list");
}

/// A portal on the registrar (tractor's get_arbiter). Inside an actor.
inline task<portal> registrar() {
    co_return co_await remote::detail::registrar_of(remote::detail::running_system("troupe::registrar"));
}

}  // namespace troupe
