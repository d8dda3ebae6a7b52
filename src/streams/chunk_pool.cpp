// chunk_pool: the spare chunks of the embedded broker's logs (see chunk_pool.hpp).

#include "streams/chunk_pool.hpp"

namespace troupe::streams::detail {

std::shared_ptr<record_chunk> chunk_pool::take(const std::shared_ptr<chunk_pool>& pool) {
    record_chunk* c = nullptr;
    {
        const std::lock_guard guard(pool->lock_);
        if (!pool->spares_.empty()) {
            c = pool->spares_.back();
            pool->spares_.pop_back();
        }
    }
    if (c == nullptr) {
        c = new record_chunk();
    }
    try {
        return {c, [pool](record_chunk* back) { pool->give_back(back); }};
    } catch (...) {
        delete c;  // the control block could not be made
        throw;
    }
}

void chunk_pool::give_back(record_chunk* c) noexcept {
    c->next.reset();
    for (record& r : c->records) {
        r.object.reset();  // a channel's value goes with its last reader, as the log promised
    }
    {
        const std::lock_guard guard(lock_);
        if (spares_.size() < most_spares) {
            spares_.push_back(c);  // (reserved: cannot throw)
            return;
        }
    }
    delete c;
}

chunk_pool::~chunk_pool() {
    for (record_chunk* c : spares_) {
        delete c;
    }
}

}  // namespace troupe::streams::detail
