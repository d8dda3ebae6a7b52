#pragma once
/// \file
/// process_runtime: a system's part in the tree of process actors (a per-system service). It
/// knows what this process serves, keeps its connections to other process actors, and, in a
/// child, the connection to its parent, whose cancel or loss ends the process.

#include <troupe/core/future.hpp>
#include <troupe/core/service.hpp>
#include <troupe/remote/address.hpp>
#include <troupe/remote/authentication.hpp>
#include <troupe/remote/discovery.hpp>
#include <troupe/remote/portal.hpp>
#include <troupe/remote/statespace.hpp>
#include <troupe/wire/protocol.hpp>

#include "remote/listener.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe {
class system;
class io_service;
}  // namespace troupe

namespace troupe::remote::detail {

class peer;
class process_service;

class process_runtime final : public troupe::service {
public:
    explicit process_runtime(troupe::system& sys);
    ~process_runtime() override;

    troupe::system& system() noexcept { return system_; }
    troupe::io_service& io() noexcept { return io_; }
    process_service& processes() noexcept { return processes_; }

    /// The hello this process says on every connection.
    wire::msg::hello hello() const;
    /// True if this process serves the exposed functions of namespace `ns`: a root serves all,
    /// a child those its parent enabled.
    bool serves(std::string_view ns) const;
    /// A child's number for the next spawn (1, 2, ...).
    std::uint64_t next_child_number() noexcept { return ++children_; }

    /// Child side: serves the parent over the connected socket `fd` (inherited as fd 3).
    void serve_parent(int fd);
    /// Child side: what the parent said it is (its name, namespaces, statespace, log level).
    void apply_spawn(const wire::msg::spawn& spec);
    /// Child side: completes once the process is to exit (cancelled, or its parent gone).
    future<void> finished() const { return finished_.get_future(); }
    /// Child side: the parent asked this actor to end.
    void cancel_requested(const std::string& reason);
    /// True once this actor is ending (new calls are refused).
    bool cancelling() const noexcept { return cancelling_.load(std::memory_order_acquire); }

    /// A connection has closed.
    void peer_closed(peer& p, bool was_parent, const std::string& reason);
    /// A served call has ended.
    void served_call_ended();
    /// Keeps `p` until this system shuts down (or its connection closes).
    void keep(const std::shared_ptr<peer>& p);

    /// Where this process accepts connections (listening from the first call on).
    address listening();
    /// The registrar's address for this process and its children: the one it joins, or its
    /// own (hosting it from the first call on) for a root.
    address registrar_address();
    /// A portal on the registrar; this process registers with it the first time.
    future<portal> registrar();
    /// A portal on the actor at `where`, reusing an open connection to it.
    future<portal> portal_to(const address& where);

protected:
    void shutdown() override;

private:
    /// Child side: once nothing is served any more, acknowledges the cancel and finishes.
    void finish_if_idle();

    /// Makes a connection for an accepted socket.
    void accept(connection::socket s);
    /// This process's entry for the registry.
    actor_entry self_entry();

    /// The options of a connection this process makes (accepted: a listener's).
    connection_options connection_settings(bool accepted) const;

    troupe::system& system_;
    troupe::io_service& io_;
    process_service& processes_;
    const authentication auth_;  // the shared secret of TCP connections (TROUPE_SECRET, TROUPE_SECRET_FILE)
    std::atomic<std::uint64_t> children_{0};
    std::atomic<bool> cancelling_{false};

    mutable std::mutex lock_;
    bool is_child_ = false;
    std::vector<std::string> enabled_;
    std::vector<std::shared_ptr<peer>> peers_;
    std::shared_ptr<peer> parent_;
    bool finished_flag_ = false;
    promise<void> finished_;

    std::optional<listener> listener_;
    std::optional<address> registrar_;  // the child's, from its spawn message
    std::optional<future<portal>> registrar_portal_;
    std::map<std::string, future<portal>> by_address_;  // connections this process opened
};

/// The options of this process as a root (run_options), or as a child (from its spawn message).
struct process_settings {
    std::string registrar;  // the registrar to join; empty for a root that hosts one
    std::string listen;     // where to listen; empty: a private Unix socket
    std::vector<std::string> enable;
};
process_settings& settings();

/// The statespace a child was started with (set once, by apply_spawn).
void set_current_statespace(statespace s);

}  // namespace troupe::remote::detail
