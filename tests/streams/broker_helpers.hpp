#pragma once
// What the embedded broker's tests share (broker.test.cpp, retention.test.cpp).

#include <troupe/core/errors.hpp>
#include <troupe/streams/broker.hpp>

#include <functional>
#include <string>
#include <vector>

namespace broker_test {

namespace ts = troupe::streams;

inline std::string text(const ts::bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline ts::record_metadata put(ts::broker& b, const std::string& topic, std::uint32_t partition,
                               const std::string& value) {
    return b.produce({.topic = topic, .partition = partition, .value = ts::bytes_of(value)}).get();
}

inline std::vector<std::string> values(const std::vector<ts::record_ptr>& records) {
    std::vector<std::string> v;
    for (const auto& r : records) {
        v.push_back(text(r->value));
    }
    return v;
}

inline std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const troupe::error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace broker_test
