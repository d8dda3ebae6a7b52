#pragma once
/// \file
/// The allocator of envelopes (and other small runtime objects that travel between threads).
/// Messages are allocated on the sender's thread and freed on the receiver's, which makes the
/// general-purpose allocator pass blocks between threads one by one under contention. Here each
/// thread keeps free lists per size class and hands blocks to other threads in batches; what is
/// cached is bounded (a drained backlog goes back to the allocator). Sanitizer builds bypass it.

#include <cstddef>

namespace troupe::detail {

/// Allocates `size` bytes (sizes above 256 go to ::operator new).
void* pool_allocate(std::size_t size);
/// Frees a block from pool_allocate; `size` must be the size it was allocated with.
void pool_deallocate(void* p, std::size_t size) noexcept;
/// Free blocks cached now: this thread's lists and the shared depot (for tests and stats).
std::size_t pool_cached_blocks() noexcept;
/// False in sanitizer builds, where every block comes from and goes to the allocator.
bool pools_enabled() noexcept;

}  // namespace troupe::detail
