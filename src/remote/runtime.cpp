#include "remote/runtime.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/run.hpp>

#include "remote/connection.hpp"
#include "remote/identity.hpp"
#include "remote/peer.hpp"
#include "remote/process.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

namespace troupe::remote::detail {

namespace {
std::mutex statespace_lock;
statespace& current_statespace_storage() {
    static statespace s;
    return s;
}
}  // namespace

void set_current_statespace(statespace s) {
    const std::lock_guard guard(statespace_lock);
    current_statespace_storage() = std::move(s);
}

process_runtime::process_runtime(troupe::system& sys)
    : system_(sys), io_(sys.service<troupe::io_service>()), processes_(sys.service<process_service>()) {}

process_runtime::~process_runtime() = default;

wire::msg::hello process_runtime::hello() const {
    const identity& self = self_identity();
    wire::msg::hello h;
    h.name = self.full_name();
    h.id = self.id;
    h.pid = self.pid;
    return h;
}

bool process_runtime::serves(std::string_view ns) const {
    const std::lock_guard guard(lock_);
    if (!is_child_) {
        return true;
    }
    return std::find(enabled_.begin(), enabled_.end(), ns) != enabled_.end();
}

void process_runtime::serve_parent(int fd) {
    auto p = std::make_shared<peer>(*this, /*connected=*/true, /*from_parent=*/true);
    {
        const std::lock_guard guard(lock_);
        is_child_ = true;
        parent_ = p;
        peers_.push_back(p);
    }
    connection_options options;
    options.hello = hello();
    auto c = connection::adopt_fd(io_, fd, std::move(options), p);
    p->attach(c);
    c->start();
}

void process_runtime::apply_spawn(const wire::msg::spawn& spec) {
    {
        const std::lock_guard guard(lock_);
        enabled_ = spec.enable;
    }
    std::map<std::string, std::vector<std::byte>, std::less<>> values(spec.state.begin(), spec.state.end());
    set_current_statespace(statespace(std::move(values)));
    if (!spec.log_level.empty()) {
        logger()->set_level(spdlog::level::from_str(spec.log_level));
    }
}

void process_runtime::cancel_requested(const std::string& reason) {
    logger()->info("troupe: {}: cancelled ({})", self_identity().full_name(), reason);
    cancelling_.store(true, std::memory_order_release);
    std::vector<std::shared_ptr<peer>> peers;
    {
        const std::lock_guard guard(lock_);
        peers = peers_;
    }
    for (auto& p : peers) {
        p->cancel_served("this actor is cancelled");
    }
    finish_if_idle();
}

void process_runtime::served_call_ended() {
    if (cancelling()) {
        finish_if_idle();
    }
}

void process_runtime::finish_if_idle() {
    std::shared_ptr<peer> parent;
    {
        const std::lock_guard guard(lock_);
        if (finished_flag_) {
            return;
        }
        for (auto& p : peers_) {
            if (p->served() != 0) {
                return;
            }
        }
        finished_flag_ = true;
        parent = parent_;
    }
    if (parent) {
        // The acknowledgement goes out before the connection closes: the parent waits for it,
        // then for this process to exit.
        parent->send(0, wire::msg::cancel_ack{});
        parent->close("cancelled");
    }
    finished_.set_value();
}

void process_runtime::peer_closed(peer& p, bool was_parent, const std::string& reason) {
    {
        const std::lock_guard guard(lock_);
        std::erase_if(peers_, [&](const std::shared_ptr<peer>& q) { return q.get() == &p && !was_parent; });
    }
    if (was_parent && !cancelling()) {
        // The parent has gone (or closed on us): this actor ends, as if cancelled.
        logger()->info("troupe: {}: the parent's connection closed ({}); ending", self_identity().full_name(), reason);
        cancel_requested("the parent's connection closed");
    }
}

void process_runtime::keep(const std::shared_ptr<peer>& p) {
    const std::lock_guard guard(lock_);
    peers_.push_back(p);
}

void process_runtime::shutdown() {
    std::vector<std::shared_ptr<peer>> peers;
    {
        const std::lock_guard guard(lock_);
        peers.swap(peers_);
        parent_.reset();
    }
    for (auto& p : peers) {
        p->close("the system is shutting down");
    }
}

// --- a child's main -------------------------------------------------------------------------

namespace {
constexpr std::string_view child_flag = "--troupe-child";

template <class T>
bool parse_number(const char* text, T& out) {
    const char* end = text + std::strlen(text);
    auto [ptr, ec] = std::from_chars(text, end, out);
    return ec == std::errc{} && ptr == end;
}
}  // namespace

bool is_child(int argc, char** argv) noexcept {
    return argc >= 2 && argv[1] == child_flag;
}

int run_child(int argc, char** argv) {
    // argv: exe --troupe-child <name> <number> <parent pid> <log level>
    std::uint64_t number = 0;
    long long parent_pid = 0;
    if (argc < 6 || !parse_number(argv[3], number) || !parse_number(argv[4], parent_pid)) {
        std::fprintf(stderr, "troupe: %s: bad bootstrap arguments (this process is started by an actor_nursery)\n",
                     argv[0]);
        return 2;
    }
    die_with_parent(static_cast<pid_t>(parent_pid));
    set_identity(argv[2], number);
    const std::string full_name = self_identity().full_name();
    name_logs();
    if (argv[5][0] != '\0') {
        logger()->set_level(spdlog::level::from_str(argv[5]));
    }
    system_options options;
    options.name = full_name;
    troupe::system sys(std::move(options));
    auto& runtime = sys.service<process_runtime>();
    runtime.serve_parent(3);
    runtime.finished().wait();
    return 0;
}

}  // namespace troupe::remote::detail

namespace troupe {

const statespace& statespace::current() noexcept {
    return remote::detail::current_statespace_storage();
}

const std::vector<std::byte>& statespace::encoded(std::string_view key) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        throw error("statespace: no value named '" + std::string(key) + "'");
    }
    return it->second;
}

}  // namespace troupe
