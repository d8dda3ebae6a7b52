// The process service: posix_spawn on the I/O thread, one pidfd per child watched by the I/O
// loop, waitid(P_PIDFD) to reap it, pidfd_send_signal to signal it.

#include "process.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/errors.hpp>

#include <asio/post.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <future>
#include <string_view>
#include <system_error>
#include <utility>

extern char** environ;

namespace troupe::remote::detail {

namespace {

std::string errno_text(int e) {
    return std::generic_category().message(e);
}

process_error cannot_start(const std::string& executable, const std::string& why) {
    std::string text = "cannot start ";
    text.append(executable).append(": ").append(why);
    return process_error(text);
}

// Through syscall(): glibc has had wrappers only since 2.36.
int open_pidfd(pid_t pid) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

/// Kills and reaps a child that has no pidfd (yet): still unreaped, its pid cannot be reused.
void abandon(pid_t pid) noexcept {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
}

exit_status status_of(const siginfo_t& info) {
    exit_status s;
    if (info.si_code == CLD_EXITED) {
        s.code = info.si_status;
    } else {  // CLD_KILLED or CLD_DUMPED
        s.signal = info.si_status;
    }
    return s;
}

/// The signals a child starts with at their default action, whatever this process or the
/// thread that starts it did with them. SIGHUP is left as it is, so that nohup still works.
constexpr int reset_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGPIPE, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2, SIGXFSZ};

struct file_actions {
    posix_spawn_file_actions_t value;
    file_actions() { ::posix_spawn_file_actions_init(&value); }
    ~file_actions() { ::posix_spawn_file_actions_destroy(&value); }
    file_actions(const file_actions&) = delete;
    file_actions& operator=(const file_actions&) = delete;
};

struct spawn_attributes {
    posix_spawnattr_t value;
    spawn_attributes() { ::posix_spawnattr_init(&value); }
    ~spawn_attributes() { ::posix_spawnattr_destroy(&value); }
    spawn_attributes(const spawn_attributes&) = delete;
    spawn_attributes& operator=(const spawn_attributes&) = delete;
};

struct owned_fd {
    int fd = -1;
    ~owned_fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

std::string_view key_of(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

/// This process's environment with spec.env on top.
std::vector<std::string> child_environment(const spawn_spec& spec) {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        env.emplace_back(*e);
    }
    for (const std::string& entry : spec.env) {
        if (entry.find('=') == std::string::npos || entry.front() == '=') {
            throw cannot_start(spec.executable,
                               std::string("the environment entry '").append(entry).append("' is not KEY=VALUE"));
        }
        const std::string_view key = key_of(entry);
        std::erase_if(env, [&](const std::string& e) { return key_of(e) == key; });
        env.push_back(entry);
    }
    return env;
}

/// The null-terminated array of pointers execve wants; valid while `text` is.
std::vector<char*> pointers(std::vector<std::string>& text) {
    std::vector<char*> out;
    out.reserve(text.size() + 1);
    for (std::string& t : text) {
        out.push_back(t.data());
    }
    out.push_back(nullptr);
    return out;
}

/// Starts the process (posix_spawn reports a failed exec, and reaps that child, before it
/// returns). Throws process_error; leaves nothing behind.
pid_t spawn_process(const spawn_spec& spec) {
    const std::string& exe = spec.executable;
    auto failed = [&](const char* step, int rc) {
        return cannot_start(exe, std::string(step).append(": ").append(errno_text(rc)));
    };

    // The child gets a copy of inherit_fd numbered 4 or more, which dup2 moves onto fd 3:
    // inherit_fd may be 0, which /dev/null replaces first, or 3, where a dup2 onto itself
    // keeps close-on-exec in libcs older than POSIX.1-2024 (glibc 2.36 clears it).
    // closefrom(4) then closes the copy.
    owned_fd copy;
    if (spec.inherit_fd >= 0) {
        copy.fd = ::fcntl(spec.inherit_fd, F_DUPFD_CLOEXEC, 4);
        if (copy.fd < 0) {
            throw cannot_start(exe, std::string("cannot pass it descriptor ")
                                        .append(std::to_string(spec.inherit_fd))
                                        .append(": ")
                                        .append(errno_text(errno)));
        }
    }
    // No other descriptor: asio opens its sockets without close-on-exec.
    file_actions actions;
    int rc = ::posix_spawn_file_actions_addopen(&actions.value, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0 && copy.fd >= 0) {
        rc = ::posix_spawn_file_actions_adddup2(&actions.value, copy.fd, 3);
    }
    if (rc == 0) {
        rc = ::posix_spawn_file_actions_addclosefrom_np(&actions.value, copy.fd >= 0 ? 4 : 3);
    }
    if (rc != 0) {
        throw failed("posix_spawn_file_actions", rc);
    }

    // No blocked signal, and the usual ones at their default action.
    spawn_attributes attributes;
    sigset_t none;
    sigset_t defaults;
    ::sigemptyset(&none);
    ::sigemptyset(&defaults);
    for (int sig : reset_signals) {
        ::sigaddset(&defaults, sig);
    }
    rc = ::posix_spawnattr_setsigmask(&attributes.value, &none);
    if (rc == 0) {
        rc = ::posix_spawnattr_setsigdefault(&attributes.value, &defaults);
    }
    if (rc == 0) {
        rc = ::posix_spawnattr_setflags(&attributes.value, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    if (rc != 0) {
        throw failed("posix_spawnattr", rc);
    }

    std::vector<std::string> args;
    args.reserve(spec.args.size() + 1);
    args.push_back(spec.argv0.empty() ? exe : spec.argv0);
    args.insert(args.end(), spec.args.begin(), spec.args.end());
    std::vector<std::string> env = child_environment(spec);
    std::vector<char*> argv = pointers(args);
    std::vector<char*> envp = pointers(env);

    pid_t pid = 0;
    rc = ::posix_spawn(&pid, exe.c_str(), &actions.value, &attributes.value, argv.data(), envp.data());
    if (rc != 0) {
        throw cannot_start(exe, errno_text(rc));
    }
    return pid;
}

/// Runs an on_exit function; what it throws is logged.
void call(const std::function<void(const exit_status&)>& f, const exit_status& s, const io_link& link,
          pid_t pid) noexcept {
    try {
        f(s);
    } catch (const std::exception& x) {
        try {
            troupe::logger()->error("system '{}': an on_exit function of child {} threw: {}", link.system_name, pid,
                                    x.what());
        } catch (...) {}
    } catch (...) {
        try {
            troupe::logger()->error("system '{}': an on_exit function of child {} threw an unknown exception",
                                    link.system_name, pid);
        } catch (...) {}
    }
}

/// Runs f on the I/O thread: here if `may_run_here` and this is it, else posted. Dropped if
/// the system is gone.
void deliver(std::function<void(const exit_status&)> f, const exit_status& s, const std::shared_ptr<io_link>& link,
             pid_t pid, bool may_run_here) {
    std::unique_lock lock(link->mutex);
    if (link->io == nullptr) {
        return;
    }
    if (may_run_here && link->io->on_io_thread()) {
        lock.unlock();
        call(f, s, *link, pid);
        return;
    }
    // Posted with the lock held: the service, and so its io_service, is not destroyed meanwhile.
    asio::post(link->io->context(), [f = std::move(f), s, link, pid] { call(f, s, *link, pid); });
}

}  // namespace

std::string exit_status::describe() const {
    std::string text;
    if (signal != 0) {
        text = "killed by ";
        if (const char* abbrev = ::sigabbrev_np(signal)) {
            text.append("SIG").append(abbrev);
        } else {
            text.append("signal ").append(std::to_string(signal));
        }
    } else if (code < 0) {
        text = "ended, its status lost (reaped elsewhere)";
    } else {
        text = "exited with code ";
        text.append(std::to_string(code));
    }
    return text;
}

// --- child_process ----------------------------------------------------------------------------

child_process::child_process(pid_t pid, int pidfd, std::shared_ptr<io_link> link)
    : pid_(pid), pidfd_(pidfd), link_(std::move(link)) {}

bool child_process::reaped() const noexcept {
    std::lock_guard lock(mutex_);
    return status_.has_value();
}

std::optional<exit_status> child_process::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

void child_process::on_exit(std::function<void(const exit_status&)> f) {
    exit_status s;
    {
        std::lock_guard lock(mutex_);
        if (!status_) {
            on_exit_.push_back(std::move(f));
            return;
        }
        s = *status_;
    }
    deliver(std::move(f), s, link_, pid_, false);
}

bool child_process::wait_for(std::chrono::nanoseconds timeout) {
    {
        std::lock_guard lock(link_->mutex);
        if (link_->io != nullptr && link_->io->on_io_thread()) {
            throw troupe::deadlock("child_process::wait_for on the I/O thread, which is the thread that reaps it");
        }
    }
    // Far enough to mean "forever", near enough not to overflow the clock.
    timeout = std::min<std::chrono::nanoseconds>(timeout, std::chrono::hours(24 * 365 * 100));
    std::unique_lock lock(mutex_);
    return published_.wait_for(lock, timeout, [&] { return status_.has_value(); });
}

void child_process::terminate() noexcept {
    send(SIGTERM);
}

void child_process::kill() noexcept {
    send(SIGKILL);
}

void child_process::send(int sig) noexcept {
    std::lock_guard lock(mutex_);
    if (!collected_) {
        // A zombie takes the signal and ignores it; the pidfd never names another process.
        ::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0);
    }
}

bool child_process::collected() const {
    std::lock_guard lock(mutex_);
    return collected_;
}

std::optional<exit_status> child_process::collect(bool block) {
    std::lock_guard lock(mutex_);
    if (collected_) {
        return std::nullopt;
    }
    siginfo_t info{};
    for (;;) {
        // Always WNOHANG: asio made the pidfd non-blocking, and waitid on such a pidfd does not
        // block. To block, poll the pidfd, which is readable once the process has ended.
        const int rc = ::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG);
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc < 0) {
            // ECHILD: someone else reaped it (a waitpid(-1), or SIGCHLD set to SIG_IGN).
            collected_ = true;
            exit_status lost;
            lost.code = -1;
            return lost;
        }
        if (info.si_pid != 0) {
            collected_ = true;
            return status_of(info);
        }
        if (!block) {
            return std::nullopt;  // it has not ended
        }
        pollfd ended{pidfd_, POLLIN, 0};
        while (::poll(&ended, 1, -1) < 0 && errno == EINTR) {}
    }
}

void child_process::publish(const exit_status& s) {
    std::vector<std::function<void(const exit_status&)>> functions;
    {
        std::lock_guard lock(mutex_);
        status_ = s;
        functions.swap(on_exit_);
    }
    published_.notify_all();
    for (auto& f : functions) {
        deliver(std::move(f), s, link_, pid_, true);
    }
}

void child_process::wait_published() {
    std::unique_lock lock(mutex_);
    published_.wait(lock, [&] { return status_.has_value(); });
}

// --- process_service --------------------------------------------------------------------------

process_service::process_service(troupe::system& sys)
    : io_(sys.service<troupe::io_service>()), link_(std::make_shared<io_link>()) {
    link_->io = &io_;
    link_->system_name = sys.name();
}

process_service::~process_service() {
    shutdown();
    watches_.clear();  // left only if the I/O loop had stopped before shutdown()
    std::lock_guard lock(link_->mutex);
    link_->io = nullptr;
}

std::shared_ptr<child_process> process_service::spawn(const spawn_spec& spec) {
    if (io_.on_io_thread()) {
        return start(spec);
    }
    auto result = std::make_shared<std::promise<std::shared_ptr<child_process>>>();
    auto started = result->get_future();
    {
        // Posted under the lock: before shutdown() sets closed_, and so before the handler it
        // posts last (one I/O thread runs them in order), or not at all.
        std::lock_guard lock(mutex_);
        if (closed_) {
            throw cannot_start(spec.executable, shut_down());
        }
        // `spec` outlives the handler's use of it: this thread waits for the result.
        asio::post(io_.context(), [this, &spec, result] {
            try {
                result->set_value(start(spec));
            } catch (...) {
                result->set_exception(std::current_exception());
            }
        });
    }
    try {
        return started.get();
    } catch (const std::future_error&) {  // the handler was dropped with the loop
        throw cannot_start(spec.executable, shut_down());
    }
}

std::string process_service::shut_down() const {
    return std::string("system '").append(link_->system_name).append("' is shut down");
}

std::size_t process_service::running() const {
    std::lock_guard lock(mutex_);
    return children_.size();
}

std::shared_ptr<child_process> process_service::start(const spawn_spec& spec) {
    std::shared_ptr<child_process> c;
    {
        // Held across posix_spawn: a child is started before shutdown() takes the list of
        // children to kill, or refused.
        std::lock_guard lock(mutex_);
        if (closed_) {
            throw cannot_start(spec.executable, shut_down());
        }
        const pid_t pid = spawn_process(spec);
        const int pidfd = open_pidfd(pid);
        if (pidfd < 0) {
            const int e = errno;
            abandon(pid);
            throw cannot_start(spec.executable, std::string("pidfd_open: ").append(errno_text(e)));
        }
        asio::posix::stream_descriptor descriptor(io_.context());
        asio::error_code ec;
        descriptor.assign(pidfd, ec);
        if (ec) {
            ::close(pidfd);
            abandon(pid);
            throw cannot_start(spec.executable, std::string("cannot watch it: ").append(ec.message()));
        }
        c.reset(new child_process(pid, pidfd, link_));
        try {
            children_.emplace(pid, c);
            watches_.emplace(pid, std::move(descriptor));  // owns the pidfd from here on
            watch(c);
        } catch (...) {  // out of memory: the pid is still ours (its pidfd is closed with `descriptor`)
            children_.erase(pid);
            watches_.erase(pid);
            abandon(pid);
            throw;
        }
    }
    troupe::logger()->info("system '{}': started {} (pid {})", link_->system_name, spec.executable, c->pid());
    return c;
}

void process_service::watch(const std::shared_ptr<child_process>& c) {
    watches_.at(c->pid()).async_wait(asio::posix::descriptor_base::wait_read, [this, c](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return;  // shutdown() dropped the watch
        }
        if (auto s = c->collect(false)) {
            watches_.erase(c->pid());
            finish(c, *s);
        } else if (c->collected()) {
            watches_.erase(c->pid());  // shutdown() reaped it
        } else if (!ec) {
            watch(c);  // not ended after all: wait again
        } else {
            troupe::logger()->error("system '{}': cannot watch child {}: {}; it is reaped at shutdown",
                                    link_->system_name, c->pid(), ec.message());
        }
    });
}

void process_service::finish(const std::shared_ptr<child_process>& c, const exit_status& s) {
    {
        std::lock_guard lock(mutex_);
        children_.erase(c->pid());
    }
    if (s.code < 0) {
        troupe::logger()->warn(
            "system '{}': child {} was reaped by someone else (is SIGCHLD ignored?); its exit "
            "status is lost",
            link_->system_name, c->pid());
    } else {
        troupe::logger()->info("system '{}': child {} {}", link_->system_name, c->pid(), s.describe());
    }
    c->publish(s);
}

void process_service::shutdown() {
    std::vector<std::shared_ptr<child_process>> left;
    {
        std::lock_guard lock(mutex_);
        if (closed_) {
            return;
        }
        closed_ = true;
        for (const auto& entry : children_) {
            left.push_back(entry.second);
        }
    }
    for (const auto& c : left) {
        c->kill();  // all of them first, then wait for each
    }
    for (const auto& c : left) {
        if (auto s = c->collect(true)) {
            finish(c, *s);
        } else {
            c->wait_published();  // the I/O thread collected it and is finishing it
        }
    }
    if (io_.on_io_thread()) {
        watches_.clear();
        return;
    }
    if (io_.context().stopped()) {
        return;  // the destructor drops the watches
    }
    // The watches are the I/O thread's objects: drop them there. Once that has run, so have
    // the on_exit functions posted above.
    auto done = std::make_shared<std::promise<void>>();
    auto dropped = done->get_future();
    asio::post(io_.context(), [this, done] {
        watches_.clear();
        done->set_value();
    });
    dropped.wait();
}

// --- in a child -------------------------------------------------------------------------------

void die_with_parent(pid_t expected_parent) {
    // Armed first, checked second: a parent that dies in between is caught by the check.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != expected_parent) {
        ::_exit(1);
    }
}

}  // namespace troupe::remote::detail
