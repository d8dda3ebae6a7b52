#pragma once
// The no-framework counterparts of bench_processes' and bench_remote_actors' rows: processes
// started with posix_spawn and waited for with waitpid, and children of this executable (started
// with --bench-floor) that answer fixed-size messages, write a stream of frames or read one over
// a Unix socket pair, with blocking reads and writes. Nothing here knows about troupe's runtime;
// the stream and sink servers use troupe::wire only to write and read the very frames troupe
// would.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proc_stats.hpp"

namespace troupe::wire {
class frame_writer;
}

namespace bench::process_floor {

/// If argv[1] is --bench-floor, runs the floor server it names and returns its exit code;
/// else -1. Call it first in main, before troupe::run: the process then starts nothing of
/// troupe's (only the executable's static initialisers have run).
///   --bench-floor exit                writes one byte to fd 3 (if open), then exits
///   --bench-floor echo <in> <out>     reads <in> bytes from fd 3, writes <out> back; until EOF
///   --bench-floor stream <n>          writes one byte to fd 3 (it runs), waits for one byte there
///                                     (go), then writes n yield frames of the ints 0..n-1 to it
///   --bench-floor sink <n>            reads n frames from fd 3, each troupe's tell of an int (a
///                                     post frame), decoding and checking them, then writes back
///                                     a sink_tally; then waits for EOF
int serve_if_asked(int argc, char** argv);

/// This executable's directory (from /proc/self/exe), with a trailing slash.
std::string own_directory();

/// posix_spawn of `path` (argv[0] = path, no other argument), then waitpid: seconds in all.
double spawn_and_reap(const std::string& path);

/// Times for this executable started with `--bench-floor exit`.
struct exec_times {
    double to_main = 0;    ///< seconds from posix_spawn until its main wrote its byte
    double to_reaped = 0;  ///< seconds from posix_spawn until waitpid returned
};
/// Starts /proc/self/exe --bench-floor exit with a pipe as fd 3, and waits for it.
exec_times spawn_self_and_reap();

/// A floor server: this executable started with --bench-floor <args>, one end of a socket pair
/// as its fd 3, the other kept here. Destroying it closes the socket (the server exits on EOF)
/// and reaps the process.
class server {
public:
    explicit server(const std::vector<std::string>& args);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// This side of the socket pair (blocking).
    int fd() const noexcept { return fd_; }
    /// The server's process id.
    pid_t pid() const noexcept { return pid_; }
    /// Closes the socket and waits for the server to exit. Idempotent.
    void finish();

private:
    int fd_ = -1;
    pid_t pid_ = -1;
};

/// Writes all of [data, data + size) to a blocking descriptor; aborts on an error.
void write_all(int fd, const void* data, std::size_t size);
/// Reads exactly `size` bytes; false at EOF before the first byte; aborts on an error.
bool read_exactly(int fd, void* data, std::size_t size);

/// Reads and decodes n yield frames of ints 0, 1, ... from `fd` (what the stream server
/// writes), checking their order; aborts on a missing or misplaced item.
void receive_stream(int fd, std::uint64_t n);

/// What the sink server writes back once it has read its n frames.
struct sink_tally {
    std::uint64_t count = 0;          ///< frames that carried the next int in order
    double seconds = 0;               ///< from decoding the first frame until decoding the n-th
    std::int64_t rss_growth_kib = 0;  ///< the sink's peak RSS over the frames minus its RSS before
};

/// Appends the frame of troupe's tell of the int `value` to the remote actor of spawn dialog
/// `dialog` (a post frame: the type's wire name, the encoded int, no reply dialog) to `out`.
void append_tell(troupe::wire::frame_writer& out, std::uint64_t dialog, int value);

/// Writes the frames of n tells of the ints 0..n-1 on `dialog` to `fd`, encoding them as it
/// goes and writing 64 KiB at a time (blocking), then reads the sink server's tally.
sink_tally send_tells(int fd, std::uint64_t n, std::uint64_t dialog);

/// CPU time and resident set size of a process, from /proc (see proc_stats.hpp).
using proc::cpu_seconds_of;
using proc::rss_kib_of;

}  // namespace bench::process_floor
