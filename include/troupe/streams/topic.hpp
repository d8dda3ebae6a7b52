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
#include <memory>
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

    /// The broker its records live in (for a channel: the app's own, in the process).
    const std::shared_ptr<broker>& broker_ptr() const noexcept { return broker_; }
    /// True for a channel: its values stay in the process as objects, never encoded.
    bool in_process() const noexcept { return in_process_; }

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
    /// The value of `r`, decoded (or copied, from a channel). Throws json_error,
    /// wire::decode_error or troupe::error.
    V value_of(const record& r) const {
        if (r.object) {
            return *static_cast<const V*>(r.object.get());
        }
        return decode_as<V>(options_.value_serializer, r.value);
    }
    /// A record for this topic carrying `value`, read from `from` (a record of a topic whose
    /// values are coded with `from_codec`), with `from`'s headers and timestamp and the key
    /// `key`: `from`'s bytes as they are where both code values alike, else coded again.
    outgoing forward_of(const V& value, const record& from, serializer from_codec, bytes key) const {
        outgoing r;
        r.topic = name_;
        r.key = std::move(key);
        r.headers = from.headers;
        r.timestamp_ms = from.timestamp_ms;
        if (in_process_) {
            r.object = from.object ? from.object : std::make_shared<const V>(value);
        } else if (!from.object && resolved<V>(from_codec) == resolved<V>(options_.value_serializer)) {
            r.value = from.value;
        } else {
            r.value = encode_as<V>(options_.value_serializer, value);
        }
        return r;
    }

    /// For the app; `in_process` for a channel.
    topic(std::shared_ptr<broker> b, std::string name, topic_options o, std::uint32_t default_partitions,
          bool in_process = false)
        : broker_(std::move(b)), name_(std::move(name)), options_(o), in_process_(in_process) {
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
        if (in_process_) {
            r.object = std::make_shared<const V>(value);
        } else {
            r.value = encode_as<V>(options_.value_serializer, value);
        }
        r.headers = std::move(o.headers);
        return r;
    }

    std::shared_ptr<broker> broker_;
    std::string name_;
    topic_options options_;
    bool in_process_ = false;
    std::uint32_t partitions_ = 0;
};

/// A channel (Faust's app.channel()): a topic that lives in the app's process only, whatever
/// the app's broker. Its values are never encoded: they travel as objects, copied out to each
/// reader. Every agent and stream of the channel gets every value (each reads in a group of
/// its own), with acknowledgements, concurrency and asks as on a topic; nothing outside the
/// process reaches it. Made by app.channel<K, V>().
template <topic_value K, topic_value V>
class channel : public topic<K, V> {
public:
    /// For the app.
    channel(std::shared_ptr<broker> in_process, std::string name, topic_options o)
        : topic<K, V>(std::move(in_process), std::move(name), o, 1, true) {}
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
