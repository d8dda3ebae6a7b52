#include <troupe/core/detail/envelope_pool.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <thread>
#include <vector>

// The per-thread pools of envelopes and cells: what they keep once a burst has drained, and
// that sanitizer builds bypass them.

namespace envelope_pool_tests {

using troupe::detail::pool_allocate;
using troupe::detail::pool_cached_blocks;
using troupe::detail::pool_deallocate;
using troupe::detail::pools_enabled;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

TEST(envelope_pool, sanitizer_builds_bypass_the_pools) {
    EXPECT_EQ(pools_enabled(), !sanitized);
}

TEST(envelope_pool, a_drained_backlog_goes_back_to_the_allocator) {
    // Messages are made on one thread and freed on another: a backlog of a million of them,
    // once handled, must not stay cached (it would be some 32 MB here, for ever).
    constexpr std::size_t backlog = 1'000'000;
    constexpr std::size_t size = 32;
    const std::size_t before = pool_cached_blocks();
    std::vector<void*> blocks;
    blocks.reserve(backlog);
    for (std::size_t i = 0; i < backlog; ++i) {
        blocks.push_back(pool_allocate(size));
    }
    std::thread consumer([&] {
        for (void* b : blocks) {
            pool_deallocate(b, size);
        }
    });
    consumer.join();
    const std::size_t after = pool_cached_blocks();
    if (!pools_enabled()) {
        EXPECT_EQ(after, 0u);
        return;
    }
    // The depot keeps 16 batches of 64 per size class, each thread at most 128 per class.
    EXPECT_LE(after, before + 16 * 64 + 2 * 128) << "the pools kept most of the backlog";
}

TEST(envelope_pool, blocks_are_reused) {
    void* a = pool_allocate(40);
    pool_deallocate(a, 40);
    void* b = pool_allocate(40);
    if (pools_enabled()) {
        EXPECT_EQ(a, b) << "a freed block is the next one handed out on its thread";
    }
    pool_deallocate(b, 40);
}

}  // namespace envelope_pool_tests
