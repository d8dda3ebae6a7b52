// json: the reading half of include/troupe/streams/json.hpp over simdjson's on-demand API, and
// the writing of strings and doubles. A json_detail::value holds either a simdjson value (in its
// storage) or, at the root, a pointer to the document: simdjson reads a scalar document only
// through the document itself.

#include <troupe/streams/json.hpp>

#include <simdjson.h>

#include <new>
#include <string>
#include <utility>

namespace troupe::streams::json_detail {

namespace sj = simdjson::ondemand;

static_assert(sizeof(sj::value) <= sizeof(value::storage_), "json_detail::value's storage is too small");
static_assert(alignof(sj::value) <= 8, "json_detail::value's storage is not aligned enough");

namespace {

std::string kind_of(value& v);

sj::value& as_value(value& v) {
    return *std::launder(reinterpret_cast<sj::value*>(v.storage_));
}
sj::document& as_document(value& v) {
    return *static_cast<sj::document*>(v.document_);
}

value wrap(sj::value v) {
    value w;
    new (w.storage_) sj::value(v);  // trivially destructible: nothing to end
    return w;
}

/// What the value is, for an error: "a string", "an object".
std::string kind_of(value& v) {
    sj::json_type t{};
    const auto error = v.document_ != nullptr ? as_document(v).type().get(t) : as_value(v).type().get(t);
    if (error) {
        return "something that is not JSON";
    }
    switch (t) {
        case sj::json_type::array:
            return "an array";
        case sj::json_type::object:
            return "an object";
        case sj::json_type::number:
            return "a number";
        case sj::json_type::string:
            return "a string";
        // The type is read from the first character only: "not json" starts as null would.
        case sj::json_type::boolean: {
            bool b = false;
            const auto e = v.document_ != nullptr ? as_document(v).get_bool().get(b) : as_value(v).get_bool().get(b);
            return e ? "something that is not JSON" : "a boolean";
        }
        case sj::json_type::null: {
            bool null = false;
            const auto e =
                v.document_ != nullptr ? as_document(v).is_null().get(null) : as_value(v).is_null().get(null);
            return e || !null ? "something that is not JSON" : "null";
        }
    }
    return "an unknown value";
}

[[noreturn]] void fail(value& v, simdjson::error_code e, const char* expected) {
    if (e == simdjson::INCORRECT_TYPE) {
        throw json_error("$", std::string("expected ") + expected + ", got " + kind_of(v));
    }
    if (e == simdjson::TRAILING_CONTENT) {
        throw json_error("$", "more after the value");
    }
    if (e == simdjson::NUMBER_OUT_OF_RANGE) {
        throw json_error("$", std::string("expected ") + expected + ", got a number out of its range");
    }
    throw json_error(
        "$", std::string("malformed JSON where ") + expected + " should be (" + simdjson::error_message(e) + ")");
}

template <class T, class Get>
T get(value& v, const char* expected, Get&& from) {
    T x{};
    const auto e = v.document_ != nullptr ? from(as_document(v)).get(x) : from(as_value(v)).get(x);
    if (e) {
        fail(v, e, expected);
    }
    return x;
}

/// The parser and a padded copy of the input, one per thread: simdjson reads up to
/// SIMDJSON_PADDING bytes past the end of what it parses, and a record's bytes have none.
struct thread_parser {
    sj::parser parser;
    std::string padded;
};
thread_parser& this_threads_parser() {
    thread_local thread_parser p;
    return p;
}

}  // namespace

std::int64_t value::get_int64() {
    return get<std::int64_t>(*this, "an integer", [](auto& v) { return v.get_int64(); });
}
std::uint64_t value::get_uint64() {
    return get<std::uint64_t>(*this, "a non-negative integer", [](auto& v) { return v.get_uint64(); });
}
double value::get_double() {
    return get<double>(*this, "a number", [](auto& v) { return v.get_double(); });
}
bool value::get_bool() {
    return get<bool>(*this, "a boolean", [](auto& v) { return v.get_bool(); });
}
std::string_view value::get_string() {
    return get<std::string_view>(*this, "a string", [](auto& v) { return v.get_string(); });
}
bool value::is_null() {
    bool null = false;
    const auto e = document_ != nullptr ? as_document(*this).is_null().get(null) : as_value(*this).is_null().get(null);
    if (e) {
        fail(*this, e, "a value");
    }
    return null;
}

void value::for_each_field(callback<void(std::string_view, value&)> f) {
    sj::object object;
    const auto e =
        document_ != nullptr ? as_document(*this).get_object().get(object) : as_value(*this).get_object().get(object);
    if (e) {
        fail(*this, e, "an object");
    }
    for (auto item : object) {
        sj::field field;
        std::string_view key;
        if (auto err = std::move(item).get(field); err) {
            throw json_error("$", std::string("a malformed object: ") + simdjson::error_message(err));
        }
        if (auto err = field.unescaped_key().get(key); err) {
            throw json_error("$", std::string("a malformed field name: ") + simdjson::error_message(err));
        }
        value v = wrap(field.value());
        f(key, v);
    }
}

void value::for_each_element(callback<void(value&)> f) {
    sj::array array;
    const auto e =
        document_ != nullptr ? as_document(*this).get_array().get(array) : as_value(*this).get_array().get(array);
    if (e) {
        fail(*this, e, "an array");
    }
    for (auto item : array) {
        sj::value element;
        if (auto err = std::move(item).get(element); err) {
            throw json_error("$", std::string("a malformed array: ") + simdjson::error_message(err));
        }
        value v = wrap(element);
        f(v);
    }
}

void parse(std::string_view text, callback<void(value&)> f) {
    thread_parser& p = this_threads_parser();
    p.padded.assign(text);
    p.padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
    sj::document doc;
    if (auto e = p.parser.iterate(p.padded.data(), text.size(), p.padded.size()).get(doc); e) {
        throw json_error("$", std::string("not JSON: ") + simdjson::error_message(e));
    }
    value root;
    root.document_ = &doc;
    f(root);
    // At the end, current_location() has no location to give.
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS) {
        throw json_error("$", "more after the value");
    }
}

void write_string(std::string_view s, std::string& out) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t plain = 0;  // the start of the run of characters that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        out.append(s.substr(plain, i - plain));
        plain = i + 1;
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            default:
                out.append("\\u00");
                out += hex[c >> 4];
                out += hex[c & 0xF];
        }
    }
    out.append(s.substr(plain));
    out += '"';
}

void write_double(double d, std::string& out) {
    if (!std::isfinite(d)) {
        throw json_error("$", "JSON has no NaN or infinity (" + std::to_string(d) + ")");
    }
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, d);
    out.append(buffer, r.ptr);
}

}  // namespace troupe::streams::json_detail
