#pragma once
// What every example uses to check its own results: each check prints "ok: ..." or
// "FAILED: ...", and the program's exit status says whether any failed (CTest runs them all).

#include <iostream>
#include <string_view>
#include <syncstream>

namespace example {

inline int failures = 0;

/// Prints the outcome of one check.
inline void check(bool ok, std::string_view what) {
    std::osyncstream(std::cout) << (ok ? "ok: " : "FAILED: ") << what << '\n';
    failures += ok ? 0 : 1;
}

/// The program's exit status: 0 if every check passed.
inline int exit_status() {
    return failures == 0 ? 0 : 1;
}

}  // namespace example
