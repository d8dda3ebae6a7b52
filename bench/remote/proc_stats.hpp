#pragma once
// What /proc says about a process: CPU time and resident set size of any process, and this
// process's peak resident set size (VmHWM), which can be reset to the current size so that it
// measures one phase of a run. Header-only and framework-free: bench_processes,
// bench_remote_actors and bench_caf_remote all use it.

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench::proc {

/// The whole of a small /proc file, read with read() (a process may vanish meanwhile); empty
/// if it cannot be read.
inline std::string read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    std::string text;
    char buffer[4096];
    ssize_t got = 0;
    while ((got = ::read(fd, buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(fd);
    return text;
}

/// User plus system CPU time of process `pid`, all threads, from /proc/<pid>/stat (clock-tick
/// resolution: 10 ms); 0 if it cannot be read.
inline double cpu_seconds_of(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    // "pid (comm) state ppid ...": utime and stime are fields 14 and 15, the 12th and 13th
    // after the ')' that ends comm.
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) {
        return 0;
    }
    const char* p = stat.c_str() + paren + 1;
    char* end = nullptr;
    unsigned long long fields[13] = {};
    for (int i = 0; i < 13; ++i) {
        while (*p == ' ') {
            ++p;
        }
        if (i == 0) {  // the state, a letter
            ++p;
            continue;
        }
        fields[i] = std::strtoull(p, &end, 10);
        p = end;
    }
    return static_cast<double>(fields[11] + fields[12]) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// Resident set size of process `pid` in KiB, from /proc/<pid>/statm; 0 if it cannot be read.
inline std::int64_t rss_kib_of(pid_t pid) {
    const std::string statm = read_file("/proc/" + std::to_string(pid) + "/statm");
    long size = 0;
    long resident = 0;
    if (std::sscanf(statm.c_str(), "%ld %ld", &size, &resident) != 2) {
        return 0;
    }
    return static_cast<std::int64_t>(resident) * ::sysconf(_SC_PAGESIZE) / 1024;
}

/// A "Name:   <n> kB" line of /proc/self/status, in KiB; -1 if it is not there.
inline std::int64_t self_status_kib(const char* name) {
    const std::string status = read_file("/proc/self/status");
    const std::string key = std::string("\n") + name + ":";
    const auto at = status.find(key);
    if (at == std::string::npos) {
        return -1;
    }
    return std::strtoll(status.c_str() + at + key.size(), nullptr, 10);
}

/// This process's resident set size now (VmRSS), in KiB.
inline std::int64_t self_rss_kib() {
    return self_status_kib("VmRSS");
}

/// This process's peak resident set size (VmHWM) since it started or since reset_self_peak(),
/// in KiB. The kernel keeps it exactly: no sampling, no peak missed between samples.
inline std::int64_t self_peak_kib() {
    return self_status_kib("VmHWM");
}

/// Sets VmHWM to the current VmRSS (writes 5 to /proc/self/clear_refs, Linux 4.0 and later),
/// so that self_peak_kib() then gives the peak of what follows; false if it could not.
inline bool reset_self_peak() {
    const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const bool ok = ::write(fd, "5", 1) == 1;
    ::close(fd);
    return ok;
}

}  // namespace bench::proc
