#pragma once
// The four-field record of the stream benchmarks (Faust's withdrawals example), the values
// they fill it with, and its decoding with simdjson's on-demand API written by hand: the floor
// that troupe's codec is measured against.

#include <troupe/wire/record.hpp>

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace bench_streams {

struct withdrawal {
    std::string user;
    std::string country;
    double amount = 0;
    std::int64_t date = 0;
};
TROUPE_RECORD(withdrawal, user, country, amount, date);

/// The i-th of a run of distinct withdrawals.
inline withdrawal sample_withdrawal(std::uint64_t i) {
    static const char* users[] = {"alice", "bob", "carol", "dave"};
    static const char* countries[] = {"FR", "DE", "NO", "US"};
    return {users[i % 4], countries[(i / 4) % 4], static_cast<double>(i % 1000) + 0.25,
            static_cast<std::int64_t>(1700000000 + i)};
}

/// simdjson's on-demand API on a padded copy of the input (a broker's bytes have no padding),
/// fields by name, as troupe's codec reads them.
struct by_hand_decoder {
    simdjson::ondemand::parser parser;
    std::string padded;
    simdjson::ondemand::document document(std::string_view in) {
        padded.assign(in);
        padded.resize(in.size() + simdjson::SIMDJSON_PADDING);
        return parser.iterate(padded.data(), in.size(), padded.size());
    }
    withdrawal decode_withdrawal(std::string_view in) {
        auto d = document(in);
        withdrawal w;
        w.user = std::string_view(d["user"].get_string().value());
        w.country = std::string_view(d["country"].get_string().value());
        w.amount = d["amount"].get_double().value();
        w.date = d["date"].get_int64().value();
        return w;
    }
};

}  // namespace bench_streams
