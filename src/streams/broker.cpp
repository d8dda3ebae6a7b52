#include <troupe/streams/broker.hpp>

#include <troupe/core/errors.hpp>

#include "streams/memory_broker.hpp"

#include <map>
#include <mutex>
#include <string>

namespace troupe::streams {

bytes bytes_of(std::string_view text) {
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    return {p, p + text.size()};  // one memcpy
}

std::string to_string(const topic_partition& tp) {
    return tp.topic + "/" + std::to_string(tp.partition);
}

std::uint32_t partition_for_key(const bytes& key, std::uint32_t partitions) noexcept {
    std::uint32_t h = 2166136261U;
    for (std::byte b : key) {
        h ^= static_cast<std::uint32_t>(b);
        h *= 16777619U;
    }
    return partitions == 0 ? 0 : h % partitions;
}

void broker::produce_soon(outgoing r) {
    const future<record_metadata> sent = produce(std::move(r));
    if (sent.failed()) {
        sent.get();  // throws why
    }
}

std::optional<future<void>> broker::when_caller_may_produce() {
    return std::nullopt;
}

std::shared_ptr<broker> make_embedded_broker(embedded_broker_options o) {
    return std::make_shared<detail::memory_broker>(o);
}

std::shared_ptr<broker> open_broker(std::string_view url) {
    constexpr std::string_view memory = "memory://";
    if (url.substr(0, memory.size()) != memory) {
        throw error("streams: no broker for '" + std::string(url) + "' (known: memory://, memory://<name>)");
    }
    // Embedded brokers live as long as the process: records produced by one app are there for
    // the next one that opens the same URL, as with a broker outside the process.
    static std::mutex lock;
    static std::map<std::string, std::shared_ptr<detail::memory_broker>, std::less<>> brokers;
    const std::string name(url.substr(memory.size()));
    const std::lock_guard guard(lock);
    auto& b = brokers[name];
    if (!b) {
        b = std::make_shared<detail::memory_broker>();
    }
    return b;
}

}  // namespace troupe::streams
