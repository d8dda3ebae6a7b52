#pragma once
// What the tractor examples check once their actor nursery has ended: that no child process is
// left behind, running or as a zombie.

#include <sys/wait.h>

#include <cerrno>

namespace example {

/// True if this process has no child at all: none running, none ended and not yet reaped.
inline bool no_child_left() {
    siginfo_t info{};
    // WNOWAIT: only look, reap nothing (the runtime reaps its children itself).
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

}  // namespace example
