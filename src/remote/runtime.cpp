#include "remote/runtime.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/context.hpp>
#include <troupe/remote/portal.hpp>
#include <troupe/remote/run.hpp>

#include "remote/connect.hpp"
#include "remote/connection.hpp"
#include "remote/identity.hpp"
#include "remote/peer.hpp"
#include "remote/process.hpp"
#include "remote/registry.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
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
    : system_(sys),
      io_(sys.service<troupe::io_service>()),
      processes_(sys.service<process_service>()),
      auth_(authentication::from_environment()) {}

connection_options process_runtime::connection_settings(bool accepted) const {
    connection_options options;
    options.hello = hello();
    options.secret = auth_.secret;
    options.accepted = accepted;
    return options;
}

process_runtime::~process_runtime() = default;

wire::msg::hello process_runtime::hello() const {
    const identity& self = self_identity();
    wire::msg::hello h;
    h.name = self.full_name();
    h.id = self.id;
    h.pid = self.pid;
    return h;
}

process_settings& settings() {
    static process_settings s;
    return s;
}

bool process_runtime::serves(std::string_view ns) const {
    if (ns == "troupe.registrar") {
        return hosts_registry();
    }
    const std::lock_guard guard(lock_);
    const std::vector<std::string>& enabled = is_child_ ? enabled_ : settings().enable;
    return std::find(enabled.begin(), enabled.end(), ns) != enabled.end();
}

namespace {
/// A private directory for this user's Unix sockets (mode 0700).
std::string socket_directory() {
    std::string dir;
    if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run != nullptr && *run != '\0') {
        dir = std::string(run) + "/troupe";
    } else {
        dir = "/tmp/troupe-" + std::to_string(::getuid());
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throw error("cannot make the socket directory " + dir + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 0077) != 0) {
        throw error("the socket directory " + dir + " is not a directory private to this user (mode 0700)");
    }
    return dir;
}
}  // namespace

address process_runtime::listening() {
    const std::lock_guard guard(lock_);
    if (!listener_) {
        const std::string& wanted = settings().listen;
        const address where = wanted.empty()
                                  ? address::unix_socket(socket_directory() + "/" + self_identity().id + ".sock")
                                  : address::parse(wanted);
        listener_.emplace(listener::open(
            io_, where, [this](connection::socket s) { accept(std::move(s)); }, auth_));
        logger()->info("troupe: {} listens on {}", self_identity().full_name(), listener_->local_address().to_string());
    }
    return listener_->local_address();
}

void process_runtime::accept(connection::socket s) {
    auto p = std::make_shared<peer>(*this, /*connected=*/false, /*from_parent=*/false);
    auto c = connection::make(io_, std::move(s), connection_settings(/*accepted=*/true), p);
    p->attach(c);
    keep(p);
    c->start();
}

address process_runtime::registrar_address() {
    {
        const std::lock_guard guard(lock_);
        if (registrar_) {
            return *registrar_;
        }
    }
    if (!settings().registrar.empty()) {
        return address::parse(settings().registrar);
    }
    // A root without one to join hosts its tree's registrar: the table, served on its own
    // address.
    host_registry();
    return listening();
}

actor_entry process_runtime::self_entry() {
    const identity& self = self_identity();
    return actor_entry{self.name, self.full_name(), self.id, listening().to_string()};
}

future<portal> process_runtime::registrar() {
    // The first caller connects and registers; the others (even at the same time) share its
    // future: this process registers once per connection to the registrar.
    promise<portal> registered;
    {
        const std::lock_guard guard(lock_);
        if (registrar_portal_ && !registrar_portal_->failed()) {
            return *registrar_portal_;  // connected, or connecting (a failed attempt is retried)
        }
        registrar_portal_ = registered.get_future();
    }
    future<portal> result = registered.get_future();
    try {
        const address where = registrar_address();
        const actor_entry me = self_entry();
        future<portal> connected = portal_to(where).then_anywhere([me](portal p) {
            // Registered for as long as this connection lasts (the context never returns). The
            // portal is handed out once the registrar has the entry: a query made after it, on
            // any connection, finds this process.
            peer& to = p.connection();
            auto held = std::make_shared<context_sink<void>>(to.shared_from_this(), /*window=*/1);
            start_call(to, target_name("troupe.registrar", "hold"), wire::encode(std::tuple<actor_entry>(me)), held,
                       /*credit=*/1);
            return held->started_future().then_anywhere([p] { return p; });
        });
        troupe::detail::forward_result(connected, std::move(registered));
    } catch (...) {
        registered.set_exception(std::current_exception());
    }
    return result;
}

future<portal> process_runtime::portal_to(const address& where) {
    const std::string key = where.to_string();
    {
        const std::lock_guard guard(lock_);
        auto it = by_address_.find(key);
        if (it != by_address_.end() && !it->second.failed()) {
            return it->second;
        }
    }
    promise<portal> opened;
    future<portal> result = opened.get_future();
    {
        const std::lock_guard guard(lock_);
        by_address_[key] = result;
    }
    auto shared = std::make_shared<promise<portal>>(std::move(opened));
    connect(io_, where, [this, shared, key](const std::error_code& ec, connection::socket s) {
        if (ec) {
            shared->set_exception(
                std::make_exception_ptr(process_error("cannot connect to " + key + ": " + ec.message())));
            return;
        }
        auto p = std::make_shared<peer>(*this, /*connected=*/true, /*from_parent=*/false);
        p->set_expected_name(key);
        auto c = connection::make(io_, std::move(s), connection_settings(/*accepted=*/false), p);
        p->attach(c);
        keep(p);
        c->start();
        shared->set_value(portal(p, nullptr));
    });
    return result;
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
        if (!spec.registrar.empty()) {
            registrar_ = address::parse(spec.registrar);
        }
    }
    std::map<std::string, std::vector<std::byte>, std::less<>> values(spec.state.begin(), spec.state.end());
    set_current_statespace(statespace(std::move(values)));
    if (!spec.log_level.empty()) {
        logger()->set_level(spdlog::level::from_str(spec.log_level));
    }
    if (!spec.registrar.empty()) {
        // Findable by name from now on (the registration is sent before any call is served,
        // but the registrar may take it after a call it is asked by another process).
        (void)registrar();
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
        std::erase_if(by_address_, [&](const auto& kv) {
            return kv.second.ready() && !kv.second.failed() && &kv.second.get().connection() == &p;
        });
        if (registrar_portal_ && registrar_portal_->ready() && !registrar_portal_->failed() &&
            &registrar_portal_->get().connection() == &p) {
            registrar_portal_.reset();  // the next lookup connects (and registers) again
        }
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
        if (listener_) {
            listener_->close();
        }
        registrar_portal_.reset();
        by_address_.clear();
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

void configure_root(const run_options& options) {
    process_settings& s = settings();
    s.registrar = options.registrar;
    s.listen = options.listen;
    s.enable = options.enable;
}

void join_registrar(troupe::system& sys) {
    if (!settings().registrar.empty()) {
        sys.service<process_runtime>().registrar().get();  // connected: registration follows
    }
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
