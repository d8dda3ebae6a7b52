#pragma once
// Two hosts on one machine: two network namespaces joined by a veth pair, for tests of TCP
// between hosts. Making them needs root (CI runs as root), `ip` (Debian's iproute2) and a kernel
// that lets this process make namespaces (a container without CAP_SYS_ADMIN does not); a test
// that cannot have them skips, saying why (netns_test).
//
// Code runs "in" a namespace on a thread of this process that joined it with setns(): a socket
// belongs to the namespace of the thread that made it, for its whole life, so a listener opened
// there listens there and a socket connected from there comes from there, whichever thread then
// does their I/O (the system's I/O thread, here).

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

extern char** environ;

namespace remote_test {

/// What a command did: its exit status (-1 if it could not run or was killed) and what it wrote
/// to stdout and stderr.
struct command_result {
    int status = -1;
    std::string output;
};

/// Runs `argv` (no shell) and waits for it: it is always reaped.
inline command_result run_command(const std::vector<std::string>& argv) {
    command_result r;
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        r.output = std::strerror(errno);
        return r;
    }
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
        ::close(out[0]);
        r.output = argv[0] + ": " + std::strerror(spawned);
        return r;
    }
    char buffer[1024];
    for (;;) {
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        r.output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == ' ')) {
        r.output.pop_back();
    }
    return r;
}

/// Where `ip` is (PATH, then the sbin directories), or empty.
inline std::string find_ip() {
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH")) {
        std::string all = path;
        for (std::size_t at = 0; at <= all.size();) {
            const std::size_t end = std::min(all.find(':', at), all.size());
            dirs.push_back(all.substr(at, end - at));
            at = end + 1;
        }
    }
    for (const char* d : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
        dirs.emplace_back(d);
    }
    for (const auto& d : dirs) {
        const std::string candidate = d + "/ip";
        if (!d.empty() && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

/// Where `ip netns` keeps a namespace's name.
inline std::filesystem::path netns_file(const std::string& name) {
    return std::filesystem::path("/run/netns") / name;
}

/// Two network namespaces, "troupe-test-<pid>-a" and "...-b", joined by a veth pair: a has
/// 10.213.0.1/24 on "veth-a", b has 10.213.0.2/24 on "veth-b", and both have lo up. The veth
/// ends are made inside the namespaces, never in this one, so concurrent pairs do not meet.
/// Everything goes with the object.
class netns_pair {
public:
    /// The prefix of every name this fixture makes; the pid follows.
    static constexpr const char* prefix = "troupe-test-";

    /// Makes them, first removing what a run that is gone left behind. If that fails,
    /// why_not() says why and nothing is left.
    netns_pair() : ip_(find_ip()) {
        const std::string self = std::to_string(::getpid());
        a_ = prefix + self + "-a";
        b_ = prefix + self + "-b";
        if (::geteuid() != 0) {
            why_not_ = "making network namespaces needs root (CI runs as root)";
            return;
        }
        if (ip_.empty()) {
            why_not_ = "making network namespaces needs `ip` (Debian's iproute2: scripts/install-deps.sh)";
            return;
        }
        remove_leftovers();
        for (const auto& ns : {a_, b_}) {
            if (const auto r = ip({"netns", "add", ns}); r.status != 0) {
                fail("cannot make a network namespace (ip netns add: " + r.output +
                     "): a container without CAP_SYS_ADMIN?");
                return;
            }
            made_.push_back(ns);
        }
        const std::vector<std::vector<std::string>> steps{
            {"-n", a_, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b", "netns", b_},
            {"-n", a_, "addr", "add", std::string(a_address) + "/24", "dev", "veth-a"},
            {"-n", b_, "addr", "add", std::string(b_address) + "/24", "dev", "veth-b"},
            {"-n", a_, "link", "set", "veth-a", "up"},
            {"-n", b_, "link", "set", "veth-b", "up"},
            {"-n", a_, "link", "set", "lo", "up"},
            {"-n", b_, "link", "set", "lo", "up"},
        };
        for (const auto& step : steps) {
            if (const auto r = ip(step); r.status != 0) {
                fail("cannot join the namespaces (ip " + step[2] + " " + step[3] + ": " + r.output + ")");
                return;
            }
        }
    }
    ~netns_pair() { remove(); }
    netns_pair(const netns_pair&) = delete;
    netns_pair& operator=(const netns_pair&) = delete;

    /// Empty if the namespaces are there; else why they are not.
    const std::string& why_not() const { return why_not_; }
    /// The namespaces' names.
    const std::string& a() const { return a_; }
    const std::string& b() const { return b_; }
    /// Their veth addresses.
    static constexpr const char* a_address = "10.213.0.1";
    static constexpr const char* b_address = "10.213.0.2";

    /// Runs `f()` on a new thread of this process that joined the namespace `name`, waits for
    /// it, and returns what it returned (or rethrows what it threw). Throws std::runtime_error
    /// if the thread cannot join it; f does not run then.
    template <class F>
    static std::invoke_result_t<F&> run_in(const std::string& name, F f) {
        std::packaged_task<std::invoke_result_t<F&>()> task(std::move(f));
        auto result = task.get_future();
        std::string failed;
        std::thread([&] {
            if (auto why = join(name)) {
                failed = std::move(*why);
                return;
            }
            task();
        }).join();
        if (!failed.empty()) {
            throw std::runtime_error(failed);
        }
        return result.get();
    }

    /// Removes the namespaces that runs of these tests left behind and whose process is gone
    /// (a crash, a kill), and this process's own if its pid was used before.
    static void remove_leftovers() {
        std::error_code ec;
        const std::string ip = find_ip();
        for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind(prefix, 0) != 0) {
                continue;
            }
            const std::string rest = name.substr(std::strlen(prefix));
            const long pid = std::strtol(rest.c_str(), nullptr, 10);
            const bool gone = pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
            if (gone || pid == ::getpid()) {
                (void)run_command({ip, "netns", "del", name});
            }
        }
    }

private:
    command_result ip(std::vector<std::string> args) const {
        args.insert(args.begin(), ip_);
        return run_command(args);
    }
    void fail(std::string why) {
        why_not_ = std::move(why);
        remove();
    }
    void remove() {
        for (const auto& ns : made_) {
            (void)ip({"netns", "del", ns});
        }
        made_.clear();
    }
    /// Joins this thread to the namespace `name`, and checks that it did (so that nothing
    /// this thread then sends leaves from this process's own namespace); why not, or nullopt.
    static std::optional<std::string> join(const std::string& name) {
        const int fd = ::open(netns_file(name).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return "cannot open the network namespace " + name + ": " + std::strerror(errno);
        }
        const int joined = ::setns(fd, CLONE_NEWNET);
        const int e = errno;
        struct ::stat wanted {};
        ::fstat(fd, &wanted);
        ::close(fd);
        if (joined != 0) {
            return "cannot join the network namespace " + name + ": " + std::strerror(e);
        }
        struct ::stat now {};
        if (::stat("/proc/thread-self/ns/net", &now) != 0 || now.st_ino != wanted.st_ino ||
            now.st_dev != wanted.st_dev) {
            return "this thread is not in the network namespace " + name + " after setns";
        }
        return std::nullopt;
    }

    std::string ip_;
    std::string a_;
    std::string b_;
    std::vector<std::string> made_;
    std::string why_not_;
};

/// A test of two hosts: the pair of namespaces, or the test skips with the reason.
class netns_test : public ::testing::Test {
protected:
    void SetUp() override {
        hosts.emplace();
        if (!hosts->why_not().empty()) {
            const std::string why = hosts->why_not();
            hosts.reset();
            GTEST_SKIP() << why;
        }
    }
    void TearDown() override { hosts.reset(); }

    std::optional<netns_pair> hosts;
};

}  // namespace remote_test
