#pragma once
/// \file
/// Who this process is as a process actor: its name, its number among its parent's children,
/// its pid, and a unique id. One per process.

#include <cstdint>
#include <string>

namespace troupe::remote::detail {

struct identity {
    std::string name = "root";
    std::uint64_t number = 0;  // 0 for a root; a child's is its parent's count of children
    std::int64_t pid = 0;
    std::string id;  // unique for the process's lifetime ("4121-9f2c61d0a3b4e5f6")

    /// "donny#2@4121": how logs and errors name the process actor.
    std::string full_name() const;
};

/// This process's identity (the pid and id are filled on first use).
const identity& self_identity();
/// Renames this process's actor (troupe::run, a child's bootstrap); before anything uses it.
void set_identity(std::string name, std::uint64_t number);
/// Makes every line of troupe's logger name this process actor ("[donny#2@4121]").
void name_logs();

}  // namespace troupe::remote::detail
