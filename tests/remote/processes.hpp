#pragma once
// This process's child processes, zombies included, read from /proc: a test notes the count
// when it begins and checks it is back there when it ends ("no child left, no zombie").

#include <fcntl.h>
#include <troupe/core/system.hpp>
#include <troupe/remote/portal.hpp>

#include <gtest/gtest.h>

#include "core/test_support.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace troupe_test {

/// A process as /proc/<pid>/stat tells it.
struct process_entry {
    pid_t pid = 0;     ///< its id
    char state = '?';  ///< 'R', 'S', 'Z' (zombie), ...
};

/// Every process whose parent is this process, zombies included.
inline std::vector<process_entry> child_processes() {
    std::vector<process_entry> out;
    const pid_t self = ::getpid();
    std::error_code ec;
    for (const auto& dir : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = dir.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        // read(), not a stream: a process may vanish between open and read (ESRCH), and
        // libstdc++'s filebuf throws then.
        const int fd = ::open((dir.path() / "stat").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        char buffer[512];
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        ::close(fd);
        const std::string stat(buffer, got > 0 ? static_cast<std::size_t>(got) : 0);
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
        const auto paren = stat.rfind(')');
        if (paren == std::string::npos || paren + 4 >= stat.size()) {
            continue;  // gone meanwhile
        }
        const char state = stat[paren + 2];
        const pid_t ppid = static_cast<pid_t>(std::strtol(stat.c_str() + paren + 4, nullptr, 10));
        if (ppid == self) {
            out.push_back({static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10)), state});
        }
    }
    return out;
}

/// How many children this process has, zombies included.
inline std::size_t child_count() {
    return child_processes().size();
}

/// How many of this process's children are zombies (ended, not reaped).
inline std::size_t zombie_count() {
    std::size_t n = 0;
    for (const process_entry& p : child_processes()) {
        n += p.state == 'Z' ? 1 : 0;
    }
    return n;
}

/// Reads one line from `fd` (a pipe from a child) within the test's patience; empty if none
/// comes.
inline std::string read_line(int fd) {
    std::string line;
    char c = 0;
    while (line.empty() || line.back() != '\n') {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(patience().count())) != 1 || ::read(fd, &c, 1) != 1) {
            return {};
        }
        line.push_back(c);
    }
    line.pop_back();
    return line;
}

/// SIGKILLs the process of the actor behind `p` (its full name, "donny#1@4121", ends in its
/// pid), as a crash would end it.
inline void kill_process_of(const troupe::portal& p) {
    const std::string name = p.name();
    ::kill(static_cast<pid_t>(std::stol(name.substr(name.rfind('@') + 1))), SIGKILL);
}

/// A test that starts child processes: it ends with as many children as it began with (none
/// of its own left running, no zombie), and has a small system for its actors.
class process_test : public ::testing::Test {
protected:
    void SetUp() override { before_ = child_count(); }
    void TearDown() override { EXPECT_EQ(child_count(), before_) << "a child process was left behind"; }

    troupe::system sys{small_system()};

private:
    std::size_t before_ = 0;
};

}  // namespace troupe_test
