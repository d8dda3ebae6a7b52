#pragma once
/// \file
/// topic<K, V>: a named, partitioned stream of records with keys of type K and values of type
/// V, and the codecs that turn them into bytes. Made by an app (app.topic<K, V>("name")); a
/// description, not a subscription: agents and streams read it.

#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>
#include <troupe/streams/broker.hpp>
#include <troupe/streams/codec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace troupe::streams {

/// How a topic is made and how its records are encoded.
struct topic_options {
    /// Its partitions; 0: the app's topic_partitions.
    std::uint32_t partitions = 0;
    serializer key_serializer = serializer::automatic;
    serializer value_serializer = serializer::automatic;
};

/// The optional parts of a record sent to a topic.
template <class K>
struct send_options {
    std::optional<K> key{};
    std::optional<std::uint32_t> partition{};
    std::vector<header> headers{};
};

template <topic_value K, topic_value V>
class topic {
public:
    using key_type = K;
    using value_type = V;

    /// The topic's name.
    const std::string& name() const noexcept { return name_; }
    /// Its partition count.
    std::uint32_t partitions() const noexcept { return partitions_; }
    serializer key_serializer() const noexcept { return options_.key_serializer; }
    serializer value_serializer() const noexcept { return options_.value_serializer; }

    /// Appends `value` (with the key, partition and headers of `o`); the future says where it
    /// went.
    future<record_metadata> send(const V& value, send_options<K> o = {}) const {
        return broker_->produce(outgoing_of(value, std::move(o)));
    }
    /// Appends `value` as send() does, without a future: for a producer of many values that
    /// need not know where each went. Throws troupe::error at once if the broker cannot take
    /// it (broker::produce_soon says what a broker over a network reports).
    void send_soon(const V& value, send_options<K> o = {}) const {
        broker_->produce_soon(outgoing_of(value, std::move(o)));
    }
    /// The key of `r`, decoded (empty bytes decode as K{} where K is raw).
    K key_of(const record& r) const { return decode_as<K>(options_.key_serializer, r.key); }
    /// The value of `r`, decoded. Throws json_error, wire::decode_error or troupe::error.
    V value_of(const record& r) const { return decode_as<V>(options_.value_serializer, r.value); }

    /// For the app.
    topic(std::shared_ptr<broker> b, std::string name, topic_options o, std::uint32_t default_partitions)
        : broker_(std::move(b)), name_(std::move(name)), options_(o) {
        if (!can_carry<K>(options_.key_serializer)) {
            throw error("streams: topic '" + name_ + "': the " + std::string(name_of(options_.key_serializer)) +
                        " serializer cannot carry its key type");
        }
        if (!can_carry<V>(options_.value_serializer)) {
            throw error("streams: topic '" + name_ + "': the " + std::string(name_of(options_.value_serializer)) +
                        " serializer cannot carry its value type");
        }
        partitions_ = options_.partitions != 0 ? options_.partitions : default_partitions;
        broker_->create_topic(name_, partitions_);
    }

private:
    outgoing outgoing_of(const V& value, send_options<K> o) const {
        outgoing r;
        r.topic = name_;
        r.partition = o.partition;
        if (o.key) {
            r.key = encode_as<K>(options_.key_serializer, *o.key);
        }
        r.value = encode_as<V>(options_.value_serializer, value);
        r.headers = std::move(o.headers);
        return r;
    }

    std::shared_ptr<broker> broker_;
    std::string name_;
    topic_options options_;
    std::uint32_t partitions_ = 0;
};

/// Several topics of the same types read as one stream (Faust's `s1 & s2`): `t1 & t2 & t3`.
template <topic_value K, topic_value V>
struct combined {
    std::vector<const topic<K, V>*> topics;
};
template <topic_value K, topic_value V>
combined<K, V> operator&(const topic<K, V>& a, const topic<K, V>& b) {
    return {{&a, &b}};
}
template <topic_value K, topic_value V>
combined<K, V> operator&(combined<K, V> a, const topic<K, V>& b) {
    a.topics.push_back(&b);
    return a;
}

}  // namespace troupe::streams
