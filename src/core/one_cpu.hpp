#pragma once
// one_cpu(): whether this process may run on one CPU only, for the waits that spin.

namespace troupe::detail {

/// True if this process may run on one CPU only (taskset, a cgroup's cpuset), as the first
/// caller saw it. Spinning while waiting for another thread is then worse than useless: the
/// spinner holds the only CPU the other thread could run on.
bool one_cpu() noexcept;

}  // namespace troupe::detail
