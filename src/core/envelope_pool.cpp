// Per-thread free lists for small blocks, exchanged between threads in batches. Under the
// sanitizers every block goes straight to the allocator, so that AddressSanitizer sees each
// use after free and ThreadSanitizer each handover.

#include <troupe/core/detail/envelope_pool.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace troupe::detail {

namespace {

constexpr std::size_t granule = 8;  // malloc rounds to 16 anyway; 24-byte tells stay 24
constexpr std::size_t largest = 256;
constexpr std::size_t classes = largest / granule + 1;
constexpr unsigned batch = 64;        // blocks handed between threads at once
constexpr unsigned keep = 2 * batch;  // a thread keeps at most this many free blocks per class
// The depot keeps at most this many batches per class and frees the rest: a burst (a backlog
// of millions of messages) must not stay cached once it has drained.
constexpr std::size_t depot_batches = 16;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool pooled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool pooled = false;
#else
constexpr bool pooled = true;
#endif
#else
constexpr bool pooled = true;
#endif

struct block {
    block* next;
};

std::size_t class_of(std::size_t size) noexcept {
    return (size + granule - 1) / granule;
}

/// Batches of free blocks that threads gave back, per size class. A mutex, touched once per
/// `batch` allocations or frees, is all the sharing there is.
struct depot {
    std::mutex mutex;
    std::array<std::vector<block*>, classes> batches;
    // How many batches each class holds, readable without the lock: a thread that only
    // allocates (a producer) must not take the mutex for every block it makes.
    std::array<std::atomic<std::size_t>, classes> available{};

    void give(std::size_t c, block* chain) {
        {
            std::lock_guard lock(mutex);
            if (batches[c].size() < depot_batches) {
                batches[c].push_back(chain);
                available[c].store(batches[c].size(), std::memory_order_relaxed);
                return;
            }
        }
        while (chain != nullptr) {  // full: back to the allocator
            block* next = chain->next;
            ::operator delete(chain);
            chain = next;
        }
    }
    std::size_t blocks() {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (auto& per_class : batches) {
            for (block* chain : per_class) {
                for (block* b = chain; b != nullptr; b = b->next) {
                    ++n;
                }
            }
        }
        return n;
    }
    block* take(std::size_t c) {
        // relaxed: a hint; the lock below is what orders the blocks themselves.
        if (available[c].load(std::memory_order_relaxed) == 0) {
            return nullptr;
        }
        std::lock_guard lock(mutex);
        auto& b = batches[c];
        if (b.empty()) {
            return nullptr;
        }
        block* chain = b.back();
        b.pop_back();
        available[c].store(b.size(), std::memory_order_relaxed);
        return chain;
    }
};

depot& the_depot() {
    static depot* d = new depot();  // never destroyed: threads may free blocks during exit
    return *d;
}

struct thread_cache {
    std::array<block*, classes> heads{};
    std::array<unsigned, classes> counts{};
    bool alive = true;

    ~thread_cache() {
        alive = false;
        for (std::size_t c = 0; c < classes; ++c) {
            if (heads[c] != nullptr) {
                the_depot().give(c, heads[c]);  // chains of any length are fine in the depot
            }
        }
    }

    void* allocate(std::size_t c) {
        if (heads[c] == nullptr) {
            heads[c] = the_depot().take(c);
            counts[c] = heads[c] != nullptr ? batch : 0;
            if (heads[c] == nullptr) {
                return ::operator new(c* granule);
            }
        }
        block* b = heads[c];
        heads[c] = b->next;
        if (counts[c] != 0) {
            --counts[c];
        }
        return b;
    }
    void deallocate(void* p, std::size_t c) noexcept {
        auto* b = static_cast<block*>(p);
        b->next = heads[c];
        heads[c] = b;
        if (++counts[c] > keep) {
            // Hand a batch to the depot: the first `batch` blocks of the list.
            block* last = heads[c];
            unsigned taken = 1;
            for (; taken < batch && last->next != nullptr; ++taken) {
                last = last->next;  // counts are a hint (a chain from an exiting thread may be short)
            }
            block* chain = heads[c];
            heads[c] = last->next;
            last->next = nullptr;
            counts[c] -= taken;
            try {
                the_depot().give(c, chain);
            } catch (...) {  // no memory for the depot's vector: keep them
                last->next = heads[c];
                heads[c] = chain;
                counts[c] += taken;
            }
        }
    }
};

thread_local thread_cache cache;

}  // namespace

void* pool_allocate(std::size_t size) {
    if constexpr (!pooled) {
        return ::operator new(size);
    }
    if (size > largest || !cache.alive) {
        return ::operator new(size > largest ? size : class_of(size) * granule);
    }
    return cache.allocate(class_of(size));
}

void pool_deallocate(void* p, std::size_t size) noexcept {
    if constexpr (!pooled) {
        ::operator delete(p);
        return;
    }
    if (size > largest) {
        ::operator delete(p);
        return;
    }
    if (!cache.alive) {
        ::operator delete(p);
        return;
    }
    cache.deallocate(p, class_of(size));
}

std::size_t pool_cached_blocks() noexcept {
    if constexpr (!pooled) {
        return 0;
    }
    std::size_t n = 0;
    if (cache.alive) {
        for (block* head : cache.heads) {
            for (block* b = head; b != nullptr; b = b->next) {
                ++n;
            }
        }
    }
    try {
        return n + the_depot().blocks();
    } catch (...) {  // the depot's lock could not be taken
        return n;
    }
}

bool pools_enabled() noexcept {
    return pooled;
}

}  // namespace troupe::detail
