// The floor servers and the bare spawn, read and write helpers of bench_processes.

#include "process_floor.hpp"

#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <typeinfo>

#include "../common/measure.hpp"

extern char** environ;

namespace bench::process_floor {

namespace {

namespace wire = troupe::wire;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "bench_processes: %s: %s\n", what, std::strerror(errno));
    std::abort();
}

/// The dialog the stream server's frames travel on: a small even id, as a troupe stream's.
constexpr std::uint64_t stream_dialog = 4;

int serve_echo(std::size_t in, std::size_t out) {
    std::vector<std::byte> buffer(std::max(in, out));
    while (read_exactly(3, buffer.data(), in)) {
        write_all(3, buffer.data(), out);
    }
    return 0;
}

int serve_stream(std::uint64_t n) {
    const char ready = 1;
    write_all(3, &ready, 1);
    char go = 0;
    if (!read_exactly(3, &go, 1)) {
        return 1;
    }
    wire::frame_writer out;
    wire::msg::yield y;
    for (std::uint64_t i = 0; i < n; ++i) {
        y.value.clear();
        wire::encode(static_cast<int>(i), y.value);
        wire::write_message(out, stream_dialog, y);
        if (out.pending().size() >= 64 * 1024) {
            write_all(3, out.pending().data(), out.pending().size());
            out.clear();
        }
    }
    write_all(3, out.pending().data(), out.pending().size());
    return 0;
}

int serve_sink(std::uint64_t n) {
    wire::frame_reader in;
    sink_tally t;
    const std::int64_t rss0 = proc::self_rss_kib();
    proc::reset_self_peak();
    clock_type::time_point first;
    while (t.count < n) {
        const auto room = in.prepare(64 * 1024);
        const ssize_t r = ::read(3, room.data(), room.size());
        if (r <= 0) {
            fail("read (sink)");
        }
        in.commit(static_cast<std::size_t>(r));
        while (auto frame = in.next()) {
            const wire::message m = wire::decode_message(*frame);
            const auto* p = std::get_if<wire::msg::post>(&m.body);
            if (p == nullptr || wire::decode<int>(p->value) != static_cast<int>(t.count)) {
                std::fprintf(stderr, "bench_remote_actors: floor tell %llu missing or out of order\n",
                             static_cast<unsigned long long>(t.count));
                std::abort();
            }
            if (++t.count == 1) {
                first = clock_type::now();
            }
        }
    }
    t.seconds = seconds_since(first);
    t.rss_growth_kib = proc::self_peak_kib() - rss0;
    write_all(3, &t, sizeof t);
    char rest = 0;
    while (read_exactly(3, &rest, 1)) {}
    return 0;
}

pid_t spawn(const std::string& path, const std::vector<std::string>& args, int fd3) {
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    int copy = -1;
    if (fd3 >= 0) {
        // A copy numbered 10 or more moves onto 3 (dup2 clears close-on-exec on the new one).
        copy = ::fcntl(fd3, F_DUPFD_CLOEXEC, 10);
        if (copy < 0) {
            fail("fcntl");
        }
        ::posix_spawn_file_actions_adddup2(&actions, copy, 3);
    }
    std::vector<std::string> text{path};
    text.insert(text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& t : text) {
        argv.push_back(t.data());
    }
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (copy >= 0) {
        ::close(copy);
    }
    if (rc != 0) {
        errno = rc;
        fail("posix_spawn");
    }
    return pid;
}

void reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fail("waitpid");
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_processes: floor child %d ended with status %d\n", static_cast<int>(pid), status);
        std::abort();
    }
}

}  // namespace

int serve_if_asked(int argc, char** argv) {
    if (argc < 3 || std::string_view(argv[1]) != "--bench-floor") {
        return -1;
    }
    const std::string_view what = argv[2];
    if (what == "exit") {
        const char byte = 1;
        (void)::write(3, &byte, 1);  // fd 3 may be closed: then there is nobody to tell
        return 0;
    }
    if (what == "echo" && argc == 5) {
        return serve_echo(std::strtoul(argv[3], nullptr, 10), std::strtoul(argv[4], nullptr, 10));
    }
    if (what == "stream" && argc == 4) {
        return serve_stream(std::strtoull(argv[3], nullptr, 10));
    }
    if (what == "sink" && argc == 4) {
        return serve_sink(std::strtoull(argv[3], nullptr, 10));
    }
    std::fprintf(stderr, "bench_processes: unknown floor server '%s'\n", argv[2]);
    return 2;
}

std::string own_directory() {
    char path[4096];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) {
        fail("readlink /proc/self/exe");
    }
    std::string p(path, static_cast<std::size_t>(n));
    return p.substr(0, p.rfind('/') + 1);
}

double spawn_and_reap(const std::string& path) {
    const auto start = clock_type::now();
    reap(spawn(path, {}, -1));
    return seconds_since(start);
}

exec_times spawn_self_and_reap() {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        fail("pipe2");
    }
    exec_times t;
    const auto start = clock_type::now();
    const pid_t pid = spawn("/proc/self/exe", {"--bench-floor", "exit"}, pipe_fds[1]);
    ::close(pipe_fds[1]);
    char byte = 0;
    if (!read_exactly(pipe_fds[0], &byte, 1)) {
        std::fprintf(stderr, "bench_processes: the exec floor's child did not reach main\n");
        std::abort();
    }
    t.to_main = seconds_since(start);
    reap(pid);
    t.to_reaped = seconds_since(start);
    ::close(pipe_fds[0]);
    return t;
}

server::server(const std::vector<std::string>& args) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        fail("socketpair");
    }
    std::vector<std::string> full{"--bench-floor"};
    full.insert(full.end(), args.begin(), args.end());
    pid_ = spawn("/proc/self/exe", full, fds[1]);
    ::close(fds[1]);
    fd_ = fds[0];
}

server::~server() {
    finish();
}

void server::finish() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (pid_ > 0) {
        reap(pid_);
        pid_ = -1;
    }
}

void write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t w = ::write(fd, p, size);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            fail("write");
        }
        p += w;
        size -= static_cast<std::size_t>(w);
    }
}

bool read_exactly(int fd, void* data, std::size_t size) {
    auto* p = static_cast<char*>(data);
    std::size_t got = 0;
    while (got < size) {
        const ssize_t r = ::read(fd, p + got, size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0 && got == 0) {
            return false;
        }
        if (r <= 0) {
            fail("read");
        }
        got += static_cast<std::size_t>(r);
    }
    return true;
}

void receive_stream(int fd, std::uint64_t n) {
    wire::frame_reader in;
    std::uint64_t next = 0;
    while (next < n) {
        const auto room = in.prepare(64 * 1024);
        const ssize_t r = ::read(fd, room.data(), room.size());
        if (r <= 0) {
            fail("read (stream)");
        }
        in.commit(static_cast<std::size_t>(r));
        while (auto frame = in.next()) {
            const wire::message m = wire::decode_message(*frame);
            const auto* y = std::get_if<wire::msg::yield>(&m.body);
            if (y == nullptr || wire::decode<int>(y->value) != static_cast<int>(next)) {
                std::fprintf(stderr, "bench_processes: floor stream item %llu missing or out of order\n",
                             static_cast<unsigned long long>(next));
                std::abort();
            }
            ++next;
        }
    }
}

void append_tell(wire::frame_writer& out, std::uint64_t dialog, int value) {
    wire::msg::post p;
    p.type = typeid(int).name();
    wire::encode(value, p.value);
    wire::write_message(out, dialog, p);
}

sink_tally send_tells(int fd, std::uint64_t n, std::uint64_t dialog) {
    wire::frame_writer out;
    for (std::uint64_t i = 0; i < n; ++i) {
        append_tell(out, dialog, static_cast<int>(i));
        if (out.pending().size() >= 64 * 1024) {
            write_all(fd, out.pending().data(), out.pending().size());
            out.clear();
        }
    }
    write_all(fd, out.pending().data(), out.pending().size());
    sink_tally t;
    if (!read_exactly(fd, &t, sizeof t)) {
        std::fprintf(stderr, "bench_remote_actors: the floor sink closed before its tally\n");
        std::abort();
    }
    return t;
}

}  // namespace bench::process_floor
