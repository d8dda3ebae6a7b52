#include "remote/process.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/errors.hpp>

#include <asio/post.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/test_support.hpp"
#include "remote/processes.hpp"

// The process service: children started with exactly the descriptors, environment, argv and
// signal state asked for; reaped through pidfds, every one of them, and never a zombie left.

extern char** environ;

namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using troupe::remote::detail::child_process;
using troupe::remote::detail::die_with_parent;
using troupe::remote::detail::exit_status;
using troupe::remote::detail::process_service;
using troupe::remote::detail::spawn_spec;
using troupe_test::child_count;
using troupe_test::patience;

// --- this program as a child ------------------------------------------------------------------

// Some tests start this very program ("/proc/self/exe" with TROUPE_PROCESS_TEST_CHILD set): it
// then plays the child's part before main and never runs a test.

/// "fds": exits with a bit per open descriptor 0..5, 64 if fd 0 is /dev/null, 128 if any
/// descriptor above 5 is open; first writes "3" to fd 3 if it is open.
[[noreturn]] void report_descriptors() {
    int code = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(dir)) {
            const int fd = std::atoi(e->d_name);
            if (e->d_name[0] == '.' || fd == ::dirfd(dir)) {
                continue;
            }
            code |= fd < 6 ? 1 << fd : 128;
        }
        ::closedir(dir);
    }
    char target[32] = {};
    if (::readlink("/proc/self/fd/0", target, sizeof target - 1) > 0 && std::string_view(target) == "/dev/null") {
        code |= 64;
    }
    if ((code & 8) != 0 && ::write(3, "3", 1) != 1) {
        ::_exit(255);
    }
    ::_exit(code);
}

/// "echo": die_with_parent(TROUPE_PROCESS_TEST_PARENT), write 'r' to fd 3, then send back every
/// byte read from fd 3; exit 0 at its end.
[[noreturn]] void echo() {
    die_with_parent(static_cast<pid_t>(std::atoi(std::getenv("TROUPE_PROCESS_TEST_PARENT"))));
    char byte = 'r';
    while (::write(3, &byte, 1) == 1 && ::read(3, &byte, 1) == 1) {}
    ::_exit(0);
}

[[maybe_unused]] const bool started_as_child = [] {
    const char* mode = std::getenv("TROUPE_PROCESS_TEST_CHILD");
    if (mode == nullptr) {
        return false;
    }
    if (std::string_view(mode) == "fds") {
        report_descriptors();
    }
    if (std::string_view(mode) == "echo") {
        echo();
    }
    ::_exit(254);
}();

/// What report_descriptors() exits with, as text: "0 1 2 3 (0: /dev/null)".
std::string descriptors(int code) {
    std::string text;
    for (int fd = 0; fd < 6; ++fd) {
        if ((code & (1 << fd)) != 0) {
            text.append(std::to_string(fd)).append(" ");
        }
    }
    if ((code & 128) != 0) {
        text.append("6+ ");
    }
    text.append((code & 64) != 0 ? "(0: /dev/null)" : "(0: not /dev/null)");
    return text;
}

// --- helpers ----------------------------------------------------------------------------------

spawn_spec program(std::string executable, std::vector<std::string> args = {}) {
    spawn_spec spec;
    spec.executable = std::move(executable);
    spec.args = std::move(args);
    return spec;
}

spawn_spec sh(const std::string& script) {
    return program("/bin/sh", {"-c", script});
}

spawn_spec this_program_as(const std::string& mode) {
    spawn_spec spec = program("/proc/self/exe");
    spec.argv0 = "process-test-child";
    spec.env = {"TROUPE_PROCESS_TEST_CHILD=" + mode, "TROUPE_PROCESS_TEST_PARENT=" + std::to_string(::getpid())};
    return spec;
}

/// A descriptor, closed with this object.
class unique_fd {
public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    ~unique_fd() { reset(); }
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
};

/// Two connected descriptors: a pipe's read and write ends, or a socket pair.
struct fd_pair {
    unique_fd first;
    unique_fd second;
};

fd_pair make_pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    return {unique_fd(fds[0]), unique_fd(fds[1])};
}

fd_pair make_socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    return {unique_fd(fds[0]), unique_fd(fds[1])};
}

/// Waits at most patience() for fd to be readable (data, end of file or, for a pidfd, an end).
bool readable(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + patience();
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0)));
        if (n > 0) {
            return true;
        }
        if (n == 0 || errno != EINTR) {
            ADD_FAILURE() << "descriptor " << fd << " did not become readable in time";
            return false;
        }
    }
}

/// Reads exactly n bytes; false on end of file, error or timeout.
bool read_exactly(int fd, void* out, std::size_t n) {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
        if (!readable(fd)) {
            return false;
        }
        const ssize_t got = ::read(fd, p, n);
        if (got <= 0) {
            return false;
        }
        p += got;
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

/// Writes all of `text` to a socket (without SIGPIPE if the other end is gone).
bool send_text(int fd, std::string_view text) {
    return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

/// Sets a signal's disposition for the lifetime of this object.
class signal_disposition {
public:
    signal_disposition(int sig, void (*handler)(int)) : sig_(sig) {
        struct sigaction action {};
        action.sa_handler = handler;
        EXPECT_EQ(::sigaction(sig, &action, &old_), 0);
    }
    ~signal_disposition() { ::sigaction(sig_, &old_, nullptr); }
    signal_disposition(const signal_disposition&) = delete;
    signal_disposition& operator=(const signal_disposition&) = delete;

private:
    int sig_;
    struct sigaction old_ {};
};

/// Reads up to and including a line end (or to the end of file).
std::string read_line(int fd) {
    std::string line;
    char c = 0;
    while (line.find('\n') == std::string::npos && read_exactly(fd, &c, 1)) {
        line.push_back(c);
    }
    return line;
}

/// Reads to the end of file.
std::string read_all(int fd) {
    std::string text;
    char buffer[256];
    ssize_t got = 0;
    while (readable(fd) && (got = ::read(fd, buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<std::size_t>(got));
    }
    return text;
}

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Runs fn on the I/O thread and returns its result.
template <class F>
auto on_io_thread(troupe::io_service& io, F fn) {
    auto done = std::make_shared<std::promise<decltype(fn())>>();
    auto result = done->get_future();
    asio::post(io.context(), [done, fn] { done->set_value(fn()); });
    EXPECT_EQ(result.wait_for(patience()), std::future_status::ready);
    return result.get();
}

/// Reaps a child of this process not started by the service (a fork, a raw posix_spawn), at
/// most patience() after it ends; SIGKILLs it if it does not.
siginfo_t reap(pid_t pid) {
    siginfo_t info{};
    const unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (pidfd.get() < 0) {
        ADD_FAILURE() << "pidfd_open(" << pid << "): " << std::strerror(errno);
        return info;
    }
    if (!readable(pidfd.get())) {
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
    }
    EXPECT_EQ(::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED), 0);
    return info;
}

// --- the service ------------------------------------------------------------------------------

/// A system with its process service; every child a test starts is reaped by its end.
class process_test : public ::testing::Test {
protected:
    void TearDown() override {
        EXPECT_EQ(child_count(), children_before_) << "a child is still running, or a zombie";
        EXPECT_EQ(procs_.running(), 0u);
        sys_.shutdown();
        EXPECT_EQ(child_count(), children_before_);
    }

    const std::size_t children_before_ = child_count();
    troupe::system sys_{troupe_test::small_system()};
    troupe::io_service& io_ = sys_.service<troupe::io_service>();
    process_service& procs_ = sys_.service<process_service>();
};

TEST_F(process_test, reports_the_exit_code) {
    auto ok = procs_.spawn(program("/bin/true"));
    auto no = procs_.spawn(program("/bin/false"));
    auto three = procs_.spawn(sh("exit 3"));
    ASSERT_TRUE(ok->wait_for(patience()));
    ASSERT_TRUE(no->wait_for(patience()));
    ASSERT_TRUE(three->wait_for(patience()));

    EXPECT_TRUE(ok->reaped());
    EXPECT_TRUE(ok->status()->success());
    EXPECT_EQ(ok->status()->describe(), "exited with code 0");
    EXPECT_TRUE(no->status()->exited());
    EXPECT_FALSE(no->status()->success());
    EXPECT_EQ(no->status()->code, 1);
    EXPECT_EQ(three->status()->code, 3);
    EXPECT_EQ(three->status()->describe(), "exited with code 3");
}

TEST_F(process_test, describes_a_child_killed_by_a_signal) {
    auto killed = procs_.spawn(program("/bin/sleep", {"1000"}));
    auto terminated = procs_.spawn(program("/bin/sleep", {"1000"}));
    EXPECT_FALSE(killed->reaped());
    EXPECT_EQ(procs_.running(), 2u);
    killed->kill();
    terminated->terminate();
    ASSERT_TRUE(killed->wait_for(patience()));
    ASSERT_TRUE(terminated->wait_for(patience()));

    EXPECT_FALSE(killed->status()->exited());
    EXPECT_EQ(killed->status()->signal, SIGKILL);
    EXPECT_EQ(killed->status()->describe(), "killed by SIGKILL");
    EXPECT_EQ(terminated->status()->signal, SIGTERM);
    EXPECT_EQ(terminated->status()->describe(), "killed by SIGTERM");
    killed->kill();  // reaped: signals nothing
    EXPECT_EQ(procs_.running(), 0u);
}

TEST_F(process_test, logs_each_start_and_end) {
    troupe_test::log_capture logs(spdlog::level::info);
    auto c = procs_.spawn(program("/bin/false"));
    ASSERT_TRUE(c->wait_for(patience()));
    const std::string pid = std::to_string(c->pid());
    EXPECT_EQ(logs.lines(), (std::vector<std::string>{"info system 'troupe': started /bin/false (pid " + pid + ")",
                                                      "info system 'troupe': child " + pid + " exited with code 1"}));
}

TEST_F(process_test, on_exit_runs_once_on_the_io_thread_also_when_registered_after_the_reap) {
    fd_pair hold = make_pipe();  // the child ends when the test closes the write end
    spawn_spec spec = sh("read x <&3; exit 7");
    spec.inherit_fd = hold.first.get();
    auto c = procs_.spawn(spec);
    hold.first.reset();

    std::atomic<int> before_calls{0};
    std::atomic<int> after_calls{0};
    std::promise<std::pair<int, bool>> before;
    std::promise<std::pair<int, bool>> after;
    c->on_exit([&](const exit_status& s) {
        if (before_calls.fetch_add(1) == 0) {
            before.set_value({s.code, io_.on_io_thread()});
        }
    });
    hold.second.reset();
    auto seen = before.get_future();
    ASSERT_EQ(seen.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(seen.get(), std::make_pair(7, true));
    ASSERT_TRUE(c->wait_for(patience()));

    c->on_exit([&](const exit_status& s) {
        if (after_calls.fetch_add(1) == 0) {
            after.set_value({s.code, io_.on_io_thread()});
        }
    });
    auto seen_after = after.get_future();
    ASSERT_EQ(seen_after.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(seen_after.get(), std::make_pair(7, true));
    EXPECT_TRUE(on_io_thread(io_, [] { return true; }));  // anything posted meanwhile has run
    EXPECT_EQ(before_calls.load(), 1);
    EXPECT_EQ(after_calls.load(), 1);
}

TEST_F(process_test, an_on_exit_function_that_throws_is_logged) {
    troupe_test::log_capture logs(spdlog::level::err);
    auto c = procs_.spawn(program("/bin/true"));
    ASSERT_TRUE(c->wait_for(patience()));
    c->on_exit([](const exit_status&) { throw std::runtime_error("no"); });
    EXPECT_TRUE(on_io_thread(io_, [] { return true; }));
    EXPECT_EQ(logs.lines(), std::vector<std::string>{"error system 'troupe': an on_exit function of child " +
                                                     std::to_string(c->pid()) + " threw: no"});
}

TEST_F(process_test, wait_for_times_out_on_a_live_child_and_succeeds_once_it_is_killed) {
    auto c = procs_.spawn(program("/bin/sleep", {"1000"}));
    EXPECT_FALSE(c->wait_for(20ms));
    EXPECT_FALSE(c->reaped());
    EXPECT_FALSE(c->status().has_value());
    c->kill();
    EXPECT_TRUE(c->wait_for(patience()));
    EXPECT_TRUE(c->wait_for(0ns));
    EXPECT_TRUE(c->wait_for(std::chrono::nanoseconds::max()));
}

TEST_F(process_test, wait_for_on_the_io_thread_throws_deadlock) {
    auto c = procs_.spawn(program("/bin/true"));
    EXPECT_TRUE(on_io_thread(io_, [c] {
        try {
            c->wait_for(0ns);
            return false;
        } catch (const troupe::deadlock&) {
            return true;
        }
    }));
    EXPECT_TRUE(c->wait_for(patience()));
}

TEST_F(process_test, terminate_does_not_end_a_child_that_ignores_sigterm_and_kill_does) {
    fd_pair talk = make_socket_pair();
    spawn_spec spec = sh("trap '' TERM; echo ready >&3; read x <&3; echo \"got $x\" >&3; read x <&3");
    spec.inherit_fd = talk.second.get();
    auto c = procs_.spawn(spec);
    talk.second.reset();
    ASSERT_EQ(read_line(talk.first.get()), "ready\n");  // the trap is set

    c->terminate();  // pidfd_send_signal has dealt with it (dropped it) when it returns
    ASSERT_TRUE(send_text(talk.first.get(), "ping\n"));
    EXPECT_EQ(read_line(talk.first.get()), "got ping\n");  // alive after the SIGTERM
    EXPECT_FALSE(c->reaped());

    c->kill();
    ASSERT_TRUE(c->wait_for(patience()));
    EXPECT_EQ(c->status()->signal, SIGKILL);
}

TEST_F(process_test, inherit_fd_becomes_fd_3_and_no_other_descriptor_is_passed) {
    // A descriptor open without close-on-exec, as asio opens its sockets: it must not leak.
    int raw[2];
    ASSERT_EQ(::pipe(raw), 0);
    const unique_fd leak_read(raw[0]);
    const unique_fd leak_write(raw[1]);

    fd_pair report = make_pipe();
    spawn_spec with = this_program_as("fds");
    with.inherit_fd = report.second.get();
    auto c = procs_.spawn(with);
    report.second.reset();
    auto bare = procs_.spawn(this_program_as("fds"));

    EXPECT_EQ(read_all(report.first.get()), "3");  // fd 3 in the child is this pipe
    ASSERT_TRUE(c->wait_for(patience()));
    ASSERT_TRUE(bare->wait_for(patience()));
    EXPECT_EQ(descriptors(c->status()->code), "0 1 2 3 (0: /dev/null)");
    EXPECT_EQ(descriptors(bare->status()->code), "0 1 2 (0: /dev/null)");
}

TEST_F(process_test, env_entries_reach_the_child_on_top_of_the_parents_environment) {
    ASSERT_EQ(::setenv("TROUPE_TEST_KEPT", "kept", 1), 0);
    ASSERT_EQ(::setenv("TROUPE_TEST_OVERRIDDEN", "parent", 1), 0);
    fd_pair out = make_pipe();
    spawn_spec spec =
        sh("printf '%s|%s|%s|%s' \"$TROUPE_TEST_NEW\" \"$TROUPE_TEST_OVERRIDDEN\" \"$TROUPE_TEST_KEPT\" "
           "\"$(env | grep -c '^TROUPE_TEST_OVERRIDDEN=')\" >&3");
    spec.env = {"TROUPE_TEST_NEW=old", "TROUPE_TEST_OVERRIDDEN=child", "TROUPE_TEST_NEW=new"};
    spec.inherit_fd = out.second.get();
    auto c = procs_.spawn(spec);
    out.second.reset();
    ::unsetenv("TROUPE_TEST_KEPT");
    ::unsetenv("TROUPE_TEST_OVERRIDDEN");

    EXPECT_EQ(read_all(out.first.get()), "new|child|kept|1");
    ASSERT_TRUE(c->wait_for(patience()));
    EXPECT_TRUE(c->status()->success());

    spec.env = {"TROUPE_TEST_NO_VALUE"};
    spec.inherit_fd = -1;
    try {
        procs_.spawn(spec);
        ADD_FAILURE() << "spawned with a bad environment entry";
    } catch (const troupe::process_error& e) {
        EXPECT_STREQ(e.what(), "cannot start /bin/sh: the environment entry 'TROUPE_TEST_NO_VALUE' is not KEY=VALUE");
    }
}

TEST_F(process_test, argv0_is_what_ps_shows) {
    // posix_spawn returns once the child's exec has begun, maybe before its new command line
    // is set up: read it once the child (this program) says it runs.
    auto command_line = [&](const std::string& argv0) {
        fd_pair talk = make_socket_pair();
        spawn_spec spec = this_program_as("echo");
        spec.argv0 = argv0;
        spec.args = {"--as", "child"};
        spec.inherit_fd = talk.second.get();
        auto c = procs_.spawn(spec);
        talk.second.reset();
        char ready = 0;
        EXPECT_TRUE(read_exactly(talk.first.get(), &ready, 1));
        std::string text = file_text("/proc/" + std::to_string(c->pid()) + "/cmdline");
        talk.first.reset();  // it ends
        EXPECT_TRUE(c->wait_for(patience()));
        return text;
    };
    EXPECT_EQ(command_line("troupe-subactor"), "troupe-subactor\0--as\0child\0"s);
    EXPECT_EQ(command_line(""), "/proc/self/exe\0--as\0child\0"s);
}

TEST_F(process_test, resets_the_signal_mask_and_the_ignored_signals) {
    // This process ignores SIGTERM, SIGINT and SIGPIPE, and its I/O thread blocks SIGTERM and
    // SIGUSR1: the child must see none of it.
    const signal_disposition term(SIGTERM, SIG_IGN);
    const signal_disposition intr(SIGINT, SIG_IGN);
    const signal_disposition pipe(SIGPIPE, SIG_IGN);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGUSR1);
    EXPECT_TRUE(on_io_thread(io_, [&] { return ::pthread_sigmask(SIG_BLOCK, &blocked, nullptr) == 0; }));

    auto c = procs_.spawn(program("/bin/sleep", {"1000"}));
    const std::string status = file_text("/proc/" + std::to_string(c->pid()) + "/status");

    EXPECT_TRUE(on_io_thread(io_, [&] { return ::pthread_sigmask(SIG_UNBLOCK, &blocked, nullptr) == 0; }));
    auto field = [&](const std::string& name) {
        const auto at = status.find(name + ":\t");
        return at == std::string::npos ? ~0ull : std::strtoull(status.c_str() + at + name.size() + 2, nullptr, 16);
    };
    auto bit = [](int sig) { return 1ull << (sig - 1); };
    EXPECT_EQ(field("SigBlk"), 0u);
    EXPECT_EQ(field("SigIgn") & (bit(SIGTERM) | bit(SIGINT) | bit(SIGPIPE)), 0u);

    c->terminate();
    ASSERT_TRUE(c->wait_for(patience()));
    EXPECT_EQ(c->status()->signal, SIGTERM);
}

TEST_F(process_test, a_child_reaped_by_someone_else_is_reported_with_a_lost_status) {
    troupe_test::log_capture logs(spdlog::level::warn);
    fd_pair hold = make_pipe();
    spawn_spec spec = sh("read x <&3");
    spec.inherit_fd = hold.first.get();
    std::shared_ptr<child_process> c;
    {
        const signal_disposition ignored(SIGCHLD, SIG_IGN);  // the kernel reaps children at once
        c = procs_.spawn(spec);
        hold.first.reset();
        hold.second.reset();  // it ends
        ASSERT_TRUE(c->wait_for(patience()));
    }

    EXPECT_EQ(c->status()->code, -1);
    EXPECT_FALSE(c->status()->success());
    EXPECT_EQ(c->status()->describe(), "ended, its status lost (reaped elsewhere)");
    EXPECT_EQ(logs.lines(), std::vector<std::string>{"warning system 'troupe': child " + std::to_string(c->pid()) +
                                                     " was reaped by someone else (is SIGCHLD ignored?); its exit "
                                                     "status is lost"});
}

TEST_F(process_test, a_program_that_cannot_start_throws_process_error_and_leaves_nothing) {
    auto message = [&](const spawn_spec& spec) -> std::string {
        try {
            procs_.spawn(spec);
        } catch (const troupe::process_error& e) {
            return e.what();
        }
        return "(started)";
    };
    EXPECT_EQ(message(program("/nonexistent/troupe")), "cannot start /nonexistent/troupe: No such file or directory");
    EXPECT_EQ(message(program("/dev/null")), "cannot start /dev/null: Permission denied");
    spawn_spec bad_fd = program("/bin/true");
    bad_fd.inherit_fd = 1000;
    EXPECT_EQ(message(bad_fd), "cannot start /bin/true: cannot pass it descriptor 1000: Bad file descriptor");
    EXPECT_EQ(procs_.running(), 0u);
    EXPECT_EQ(child_count(), children_before_);
}

TEST_F(process_test, a_hundred_children_from_four_threads_are_all_reaped) {
    std::atomic<int> ended{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            std::vector<std::shared_ptr<child_process>> mine;
            for (int i = 0; i < 25; ++i) {
                mine.push_back(procs_.spawn(i % 2 == 0 ? program("/bin/true") : sh("exit 5")));
                mine.back()->on_exit([&](const exit_status&) { ended.fetch_add(1); });
            }
            for (const auto& c : mine) {
                EXPECT_TRUE(c->wait_for(patience()));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(procs_.running(), 0u);
    EXPECT_EQ(child_count(), children_before_);
    EXPECT_TRUE(on_io_thread(io_, [] { return true; }));
    EXPECT_EQ(ended.load(), 100);
}

TEST(process_service, shutdown_kills_and_reaps_every_child_and_then_refuses_spawns) {
    const std::size_t before = child_count();
    troupe::system sys(troupe_test::small_system());
    process_service& procs = sys.service<process_service>();
    std::atomic<int> ended{0};
    std::vector<std::shared_ptr<child_process>> children;
    for (int i = 0; i < 20; ++i) {
        children.push_back(procs.spawn(program("/bin/sleep", {"1000"})));
        children.back()->on_exit([&](const exit_status&) { ended.fetch_add(1); });
    }
    EXPECT_EQ(procs.running(), 20u);
    EXPECT_EQ(child_count(), before + 20);

    sys.shutdown();
    EXPECT_EQ(child_count(), before);
    EXPECT_EQ(troupe_test::zombie_count(), 0u);
    EXPECT_EQ(procs.running(), 0u);
    EXPECT_EQ(ended.load(), 20);  // every on_exit function ran before shutdown returned
    for (const auto& c : children) {
        ASSERT_TRUE(c->reaped());
        EXPECT_EQ(c->status()->signal, SIGKILL);
    }
    try {
        procs.spawn(program("/bin/true"));
        ADD_FAILURE() << "spawned after shutdown";
    } catch (const troupe::process_error& e) {
        EXPECT_STREQ(e.what(), "cannot start /bin/true: system 'troupe' is shut down");
    }
    EXPECT_EQ(child_count(), before);
}

/// Frees descriptor `fd` for the lifetime of this object: what was there (ctest leaves a
/// descriptor at 3, and 0 is stdin) is moved aside and put back. Only while this process has
/// one thread.
class fd_moved_aside {
public:
    explicit fd_moved_aside(int fd) : fd_(fd), saved_(::fcntl(fd, F_DUPFD_CLOEXEC, 10)) {
        if (saved_ >= 0) {
            flags_ = ::fcntl(fd, F_GETFD);
            ::close(fd);
        }
    }
    ~fd_moved_aside() {
        if (saved_ >= 0) {
            ::dup3(saved_, fd_, (flags_ & FD_CLOEXEC) != 0 ? O_CLOEXEC : 0);
            ::close(saved_);
        }
    }
    fd_moved_aside(const fd_moved_aside&) = delete;
    fd_moved_aside& operator=(const fd_moved_aside&) = delete;

private:
    int fd_;
    int saved_;
    int flags_ = 0;
};

/// Passes a close-on-exec socket that is descriptor `fd` here as inherit_fd, and checks that it
/// arrives as the child's fd 3, with /dev/null as fd 0 and no other descriptor.
void pass_descriptor_numbered(int fd) {
    const std::size_t before = child_count();
    fd_pair report;
    {
        const fd_moved_aside free_fd(fd);
        for (int low = 0; low < fd; ++low) {  // the lower ones must be taken, so that socketpair picks fd
            ASSERT_NE(::fcntl(low, F_GETFD), -1) << "descriptor " << low << " is free";
        }
        report = make_socket_pair();
        ASSERT_EQ(report.first.get(), fd);
        troupe::system sys(troupe_test::small_system());
        spawn_spec spec = this_program_as("fds");
        spec.inherit_fd = fd;
        auto c = sys.service<process_service>().spawn(spec);
        report.first.reset();
        EXPECT_EQ(read_all(report.second.get()), "3");
        ASSERT_TRUE(c->wait_for(patience()));
        EXPECT_EQ(descriptors(c->status()->code), "0 1 2 3 (0: /dev/null)");
        sys.shutdown();  // its descriptors closed before `fd` is put back
    }
    EXPECT_EQ(child_count(), before);
}

TEST(process_service, an_inherit_fd_that_is_already_fd_3_loses_its_close_on_exec_flag) {
    pass_descriptor_numbered(3);
}

TEST(process_service, an_inherit_fd_of_0_is_not_replaced_by_dev_null) {
    pass_descriptor_numbered(0);
}

// --- die_with_parent and the thread a child is started from ---------------------------------

/// Orphans of this test's descendants become its children (so that it can reap them) while it lives.
class subreaper {
public:
    subreaper() { EXPECT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }
    ~subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }
    subreaper(const subreaper&) = delete;
    subreaper& operator=(const subreaper&) = delete;
};

// These fork a process with one thread (no system), whose children only make async-signal-safe
// calls before they exec or _exit.

TEST(die_with_parent, returns_while_the_parent_lives) {
    const std::size_t before = child_count();
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child == 0) {
        die_with_parent(parent);
        ::_exit(0);
    }
    const siginfo_t info = reap(child);
    EXPECT_EQ(info.si_code, CLD_EXITED);
    EXPECT_EQ(info.si_status, 0);
    EXPECT_EQ(child_count(), before);
}

TEST(die_with_parent, kills_the_child_when_the_parent_dies) {
    const subreaper reaper;
    const std::size_t before = child_count();
    fd_pair ready = make_pipe();
    const pid_t parent = ::fork();
    if (parent == 0) {
        const pid_t me = ::getpid();
        if (::fork() == 0) {
            die_with_parent(me);
            const pid_t self = ::getpid();
            if (::write(ready.second.get(), &self, sizeof self) == sizeof self) {
                ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
            }
            ::_exit(127);
        }
        for (;;) {
            ::pause();
        }
    }
    ready.second.reset();
    pid_t child = 0;
    ASSERT_TRUE(read_exactly(ready.first.get(), &child, sizeof child));  // it has called die_with_parent

    ::kill(parent, SIGKILL);
    const siginfo_t parent_end = reap(parent);
    EXPECT_EQ(parent_end.si_code, CLD_KILLED);
    const siginfo_t child_end = reap(child);  // an orphan now, so this test's child
    EXPECT_EQ(child_end.si_code, CLD_KILLED);
    EXPECT_EQ(child_end.si_status, SIGKILL);
    EXPECT_EQ(child_count(), before);
}

TEST(die_with_parent, exits_at_once_if_the_parent_is_already_gone) {
    const subreaper reaper;
    const std::size_t before = child_count();
    fd_pair go = make_pipe();
    fd_pair ready = make_pipe();
    const pid_t parent = ::fork();
    if (parent == 0) {
        const pid_t me = ::getpid();
        const pid_t child = ::fork();
        if (child == 0) {
            char byte = 0;
            if (::read(go.first.get(), &byte, 1) == 1) {
                die_with_parent(me);
                ::_exit(0);  // not reached: the parent is gone
            }
            ::_exit(127);
        }
        ::_exit(::write(ready.second.get(), &child, sizeof child) == sizeof child ? 0 : 127);
    }
    ready.second.reset();
    pid_t child = 0;
    ASSERT_TRUE(read_exactly(ready.first.get(), &child, sizeof child));
    const siginfo_t parent_end = reap(parent);
    EXPECT_EQ(parent_end.si_code, CLD_EXITED);
    EXPECT_EQ(parent_end.si_status, 0);

    ASSERT_EQ(::write(go.second.get(), "x", 1), 1);  // the child is an orphan: let it check
    const siginfo_t child_end = reap(child);
    EXPECT_EQ(child_end.si_code, CLD_EXITED);
    EXPECT_EQ(child_end.si_status, 1);
    EXPECT_EQ(child_count(), before);
}

/// pidfd_open's flag for a thread's pidfd (Linux 6.9), readable once the thread has exited,
/// after the kernel has sent its children their PR_SET_PDEATHSIG.
constexpr unsigned pidfd_thread = O_EXCL;

/// Runs `start` (which starts this program as an "echo" child on `talk`) on a thread that waits
/// until the child has armed PR_SET_PDEATHSIG, then ends; returns once the thread has wholly
/// exited. False (the test skipped) if the kernel has no thread pidfds.
template <class F>
bool start_from_a_thread_that_ends(int talk, F start) {
    int exited = -1;
    std::thread t([&] {
        exited = static_cast<int>(::syscall(SYS_pidfd_open, ::gettid(), pidfd_thread));
        start();
        char ready = 0;
        EXPECT_TRUE(read_exactly(talk, &ready, 1));
        EXPECT_EQ(ready, 'r');
    });
    t.join();
    if (exited < 0) {
        return false;
    }
    const unique_fd thread_fd(exited);
    EXPECT_TRUE(readable(thread_fd.get()));
    return true;
}

TEST_F(process_test, a_child_outlives_the_thread_that_asked_for_it) {
    fd_pair talk = make_socket_pair();
    spawn_spec spec = this_program_as("echo");
    spec.inherit_fd = talk.second.get();
    std::shared_ptr<child_process> c;
    if (!start_from_a_thread_that_ends(talk.first.get(), [&] { c = procs_.spawn(spec); })) {
        c->kill();
        c->wait_for(patience());
        GTEST_SKIP() << "this kernel has no thread pidfds";
    }
    talk.second.reset();
    ASSERT_TRUE(send_text(talk.first.get(), "x"));
    char back = 0;
    EXPECT_TRUE(read_exactly(talk.first.get(), &back, 1));  // alive: it was started by the I/O thread
    EXPECT_EQ(back, 'x');
    talk.first.reset();
    ASSERT_TRUE(c->wait_for(patience()));
    EXPECT_EQ(c->status()->describe(), "exited with code 0");
}

TEST_F(process_test, a_child_started_by_a_thread_that_ends_dies_with_it) {
    // Why the service starts children on the I/O thread: what would happen otherwise.
    fd_pair talk = make_socket_pair();
    ASSERT_NE(talk.second.get(), 3);
    spawn_spec spec = this_program_as("echo");
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
        env_text.emplace_back(*e);
    }
    env_text.insert(env_text.end(), spec.env.begin(), spec.env.end());
    std::vector<char*> envp;
    for (auto& e : env_text) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::string argv0 = spec.argv0;
    char* argv[] = {argv0.data(), nullptr};
    pid_t pid = 0;
    const bool ended = start_from_a_thread_that_ends(talk.first.get(), [&] {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, talk.second.get(), 3);
        EXPECT_EQ(::posix_spawn(&pid, spec.executable.c_str(), &actions, nullptr, argv, envp.data()), 0);
        posix_spawn_file_actions_destroy(&actions);
    });
    talk.second.reset();
    if (!ended) {
        ::kill(pid, SIGKILL);
        reap(pid);
        GTEST_SKIP() << "this kernel has no thread pidfds";
    }
    char back = 0;
    send_text(talk.first.get(), "x");  // may still go into the socket's buffer
    EXPECT_FALSE(read_exactly(talk.first.get(), &back, 1)) << "the child echoed: it outlived its thread";
    const siginfo_t end = reap(pid);
    EXPECT_EQ(end.si_code, CLD_KILLED);
    EXPECT_EQ(end.si_status, SIGKILL);
}

}  // namespace
