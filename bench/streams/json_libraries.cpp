// Which JSON library the stream records use, by measurement (issue 8: "choose the JSON library
// by measuring"). Decodes and encodes the two records of the Faust seeds: Add{a, b} and a
// withdrawal of four fields, with each library Debian packages: simdjson (on-demand API, parse
// only), RapidJSON (DOM and SAX parse, Writer), nlohmann-json (parse, dump), and a hand-written
// encoder (std::to_chars into a reused string) as the floor of encoding.
//
// Next to them, troupe's own codec (troupe::streams::from_json / to_json over the records'
// TROUPE_RECORD): what the generic layer costs over the library it reads with.
//
//   bench_json_libraries [n=1000000]
//
// Every decoder looks fields up by name (any order) and checks their types, as a codec must;
// every input is a distinct string (values vary), so no parser sees the same bytes twice in a
// row. Prints ns per record, the median of 5 rounds.

#include <troupe/streams/json.hpp>

#include "withdrawal.hpp"

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct add {
    std::int64_t a = 0;
    std::int64_t b = 0;
};
TROUPE_RECORD(add, a, b);
using bench_streams::withdrawal;

std::int64_t sink = 0;  // what the loops computed, printed at the end so that nothing is optimised away

using clock_type = std::chrono::steady_clock;

double median_ns(std::size_t n, const std::function<void()>& round) {
    std::vector<double> per;
    for (int r = 0; r < 5; ++r) {
        const auto t0 = clock_type::now();
        round();
        per.push_back(std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() /
                      static_cast<double>(n));
    }
    std::sort(per.begin(), per.end());
    return per[2];
}

void report(const char* record, const char* what, const char* library, double ns) {
    std::printf("%-10s %-7s %-22s %8.1f ns/record  %6.2f M records/s\n", record, what, library, ns, 1e3 / ns);
}

// --- inputs ----------------------------------------------------------------------------------

std::vector<std::string> add_inputs(std::size_t n) {
    std::vector<std::string> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        v.push_back("{\"a\":" + std::to_string(i) + ",\"b\":" + std::to_string(i * 7 + 3) + "}");
    }
    return v;
}
std::vector<std::string> withdrawal_inputs(std::size_t n) {
    std::vector<std::string> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        v.push_back(troupe::streams::to_json(bench_streams::sample_withdrawal(i)));
    }
    return v;
}

// --- decoders --------------------------------------------------------------------------------

struct simdjson_decoder : bench_streams::by_hand_decoder {
    add decode_add(std::string_view in) {
        auto d = document(in);
        add r;
        r.a = d["a"].get_int64().value();
        r.b = d["b"].get_int64().value();
        return r;
    }
};

/// simdjson's DOM API: both of its stages run in the library, whose runtime dispatch picks the
/// best SIMD kernel this CPU has. (The on-demand API above runs only its first stage there; its
/// walk is compiled into this program for the instructions the compiler flags allow: without
/// -march, the portable "fallback" code.)
struct simdjson_dom_decoder {
    simdjson::dom::parser parser;
    std::string padded;
    simdjson::dom::element root(std::string_view in) {
        padded.assign(in);
        padded.resize(in.size() + simdjson::SIMDJSON_PADDING);
        return parser.parse(padded.data(), in.size(), false).value();
    }
    add decode_add(std::string_view in) {
        auto d = root(in);
        return {d["a"].get_int64().value(), d["b"].get_int64().value()};
    }
    withdrawal decode_withdrawal(std::string_view in) {
        auto d = root(in);
        withdrawal w;
        w.user = std::string_view(d["user"].get_string().value());
        w.country = std::string_view(d["country"].get_string().value());
        w.amount = d["amount"].get_double().value();
        w.date = d["date"].get_int64().value();
        return w;
    }
};

std::int64_t rapid_int(const rapidjson::Document& d, const char* name) {
    auto it = d.FindMember(name);
    if (it == d.MemberEnd() || !it->value.IsInt64()) {
        throw std::runtime_error(std::string("no integer ") + name);
    }
    return it->value.GetInt64();
}
std::string rapid_string(const rapidjson::Document& d, const char* name) {
    auto it = d.FindMember(name);
    if (it == d.MemberEnd() || !it->value.IsString()) {
        throw std::runtime_error(std::string("no string ") + name);
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}
struct rapid_dom_decoder {
    rapidjson::Document d;
    void parse(std::string_view in) {
        d.Parse(in.data(), in.size());
        if (d.HasParseError() || !d.IsObject()) {
            throw std::runtime_error("not a JSON object");
        }
    }
    add decode_add(std::string_view in) {
        parse(in);
        return {rapid_int(d, "a"), rapid_int(d, "b")};
    }
    withdrawal decode_withdrawal(std::string_view in) {
        parse(in);
        withdrawal w;
        w.user = rapid_string(d, "user");
        w.country = rapid_string(d, "country");
        auto it = d.FindMember("amount");
        if (it == d.MemberEnd() || !it->value.IsNumber()) {
            throw std::runtime_error("no amount");
        }
        w.amount = it->value.GetDouble();
        w.date = rapid_int(d, "date");
        return w;
    }
};

/// RapidJSON's SAX reader into a withdrawal: fields by name, in any order, no DOM.
struct rapid_sax_withdrawal : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, rapid_sax_withdrawal> {
    withdrawal* out = nullptr;
    std::string_view key;
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        key = {s, n};
        return true;
    }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        if (key == "user") {
            out->user.assign(s, n);
        } else if (key == "country") {
            out->country.assign(s, n);
        }
        return true;
    }
    bool Int(int i) { return Int64(i); }
    bool Uint(unsigned u) { return Int64(u); }
    bool Uint64(std::uint64_t u) { return Int64(static_cast<std::int64_t>(u)); }
    bool Int64(std::int64_t i) {
        if (key == "date") {
            out->date = i;
        } else if (key == "amount") {
            out->amount = static_cast<double>(i);
        }
        return true;
    }
    bool Double(double d) {
        if (key == "amount") {
            out->amount = d;
        }
        return true;
    }
    bool Default() { return true; }
};
struct rapid_sax_decoder {
    rapidjson::Reader reader;
    withdrawal decode_withdrawal(std::string_view in) {
        withdrawal w;
        rapid_sax_withdrawal h;
        h.out = &w;
        rapidjson::MemoryStream ms(in.data(), in.size());
        if (!reader.Parse(ms, h)) {
            throw std::runtime_error("not JSON");
        }
        return w;
    }
};

struct nlohmann_decoder {
    add decode_add(std::string_view in) {
        const auto j = nlohmann::json::parse(in);
        return {j.at("a").get<std::int64_t>(), j.at("b").get<std::int64_t>()};
    }
    withdrawal decode_withdrawal(std::string_view in) {
        const auto j = nlohmann::json::parse(in);
        withdrawal w;
        w.user = j.at("user").get<std::string>();
        w.country = j.at("country").get<std::string>();
        w.amount = j.at("amount").get<double>();
        w.date = j.at("date").get<std::int64_t>();
        return w;
    }
};

// --- encoders --------------------------------------------------------------------------------

template <class T>
void append_number(std::string& out, T v) {
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, r.ptr);
}
void append_string(std::string& out, std::string_view s) {  // the inputs here need no escapes
    out += '"';
    out.append(s);
    out += '"';
}
void hand_encode(const add& a, std::string& out) {
    out.clear();
    out.append("{\"a\":");
    append_number(out, a.a);
    out.append(",\"b\":");
    append_number(out, a.b);
    out += '}';
}
void hand_encode(const withdrawal& w, std::string& out) {
    out.clear();
    out.append("{\"user\":");
    append_string(out, w.user);
    out.append(",\"country\":");
    append_string(out, w.country);
    out.append(",\"amount\":");
    append_number(out, w.amount);
    out.append(",\"date\":");
    append_number(out, w.date);
    out += '}';
}
void rapid_encode(const add& a, rapidjson::StringBuffer& buffer) {
    buffer.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("a");
    w.Int64(a.a);
    w.Key("b");
    w.Int64(a.b);
    w.EndObject();
}
void rapid_encode(const withdrawal& x, rapidjson::StringBuffer& buffer) {
    buffer.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("user");
    w.String(x.user.data(), static_cast<rapidjson::SizeType>(x.user.size()));
    w.Key("country");
    w.String(x.country.data(), static_cast<rapidjson::SizeType>(x.country.size()));
    w.Key("amount");
    w.Double(x.amount);
    w.Key("date");
    w.Int64(x.date);
    w.EndObject();
}
std::string nlohmann_encode(const add& a) {
    return nlohmann::json{{"a", a.a}, {"b", a.b}}.dump();
}
std::string nlohmann_encode(const withdrawal& w) {
    return nlohmann::json{{"user", w.user}, {"country", w.country}, {"amount", w.amount}, {"date", w.date}}.dump();
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 1'000'000;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "n=", 2) == 0) {
            n = std::strtoull(argv[i] + 2, nullptr, 10);
        }
    }
    const auto adds = add_inputs(n);
    const auto withdrawals = withdrawal_inputs(n);

    simdjson_decoder sj;
    simdjson_dom_decoder sd;
    rapid_dom_decoder rd;
    rapid_sax_decoder rs;
    nlohmann_decoder nl;
    report("add", "decode", "simdjson on-demand", median_ns(n, [&] {
               for (const auto& s : adds)
                   sink += sj.decode_add(s).b;
           }));
    report("add", "decode", "troupe from_json", median_ns(n, [&] {
               for (const auto& s : adds)
                   sink += troupe::streams::from_json<add>(s).b;
           }));
    report("add", "decode", "simdjson DOM", median_ns(n, [&] {
               for (const auto& s : adds)
                   sink += sd.decode_add(s).b;
           }));
    report("add", "decode", "rapidjson DOM", median_ns(n, [&] {
               for (const auto& s : adds)
                   sink += rd.decode_add(s).b;
           }));
    report("add", "decode", "nlohmann", median_ns(n, [&] {
               for (const auto& s : adds)
                   sink += nl.decode_add(s).b;
           }));
    report("withdrawal", "decode", "simdjson on-demand", median_ns(n, [&] {
               for (const auto& s : withdrawals)
                   sink += sj.decode_withdrawal(s).date;
           }));
    report("withdrawal", "decode", "troupe from_json", median_ns(n, [&] {
               for (const auto& s : withdrawals)
                   sink += troupe::streams::from_json<withdrawal>(s).date;
           }));
    report("withdrawal", "decode", "simdjson DOM", median_ns(n, [&] {
               for (const auto& s : withdrawals)
                   sink += sd.decode_withdrawal(s).date;
           }));
    report("withdrawal", "decode", "rapidjson DOM", median_ns(n, [&] {
               for (const auto& s : withdrawals)
                   sink += rd.decode_withdrawal(s).date;
           }));
    report("withdrawal", "decode", "rapidjson SAX", median_ns(n, [&] {
               for (const auto& s : withdrawals)
                   sink += rs.decode_withdrawal(s).date;
           }));
    report("withdrawal", "decode", "nlohmann", median_ns(n, [&] {
               for (const auto& s : withdrawals)
                   sink += nl.decode_withdrawal(s).date;
           }));

    std::vector<add> add_values;
    std::vector<withdrawal> withdrawal_values;
    for (const auto& s : adds)
        add_values.push_back(sj.decode_add(s));
    for (const auto& s : withdrawals)
        withdrawal_values.push_back(sj.decode_withdrawal(s));
    std::string out;
    rapidjson::StringBuffer buffer;
    report("add", "encode", "by hand (to_chars)", median_ns(n, [&] {
               for (const auto& v : add_values) {
                   hand_encode(v, out);
                   sink += static_cast<std::int64_t>(out.size());
               }
           }));
    report("add", "encode", "troupe to_json", median_ns(n, [&] {
               for (const auto& v : add_values) {
                   out.clear();
                   troupe::streams::to_json(v, out);
                   sink += static_cast<std::int64_t>(out.size());
               }
           }));
    report("add", "encode", "rapidjson Writer", median_ns(n, [&] {
               for (const auto& v : add_values) {
                   rapid_encode(v, buffer);
                   sink += static_cast<std::int64_t>(buffer.GetSize());
               }
           }));
    report("add", "encode", "nlohmann", median_ns(n, [&] {
               for (const auto& v : add_values)
                   sink += static_cast<std::int64_t>(nlohmann_encode(v).size());
           }));
    report("withdrawal", "encode", "by hand (to_chars)", median_ns(n, [&] {
               for (const auto& v : withdrawal_values) {
                   hand_encode(v, out);
                   sink += static_cast<std::int64_t>(out.size());
               }
           }));
    report("withdrawal", "encode", "troupe to_json", median_ns(n, [&] {
               for (const auto& v : withdrawal_values) {
                   out.clear();
                   troupe::streams::to_json(v, out);
                   sink += static_cast<std::int64_t>(out.size());
               }
           }));
    report("withdrawal", "encode", "rapidjson Writer", median_ns(n, [&] {
               for (const auto& v : withdrawal_values) {
                   rapid_encode(v, buffer);
                   sink += static_cast<std::int64_t>(buffer.GetSize());
               }
           }));
    report("withdrawal", "encode", "nlohmann", median_ns(n, [&] {
               for (const auto& v : withdrawal_values)
                   sink += static_cast<std::int64_t>(nlohmann_encode(v).size());
           }));
    std::printf("(checksum %lld)\n", static_cast<long long>(sink));
    return 0;
}
