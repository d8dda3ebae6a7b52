// thrown: where an exception was thrown. A C++ throw allocates its exception object with
// __cxa_allocate_exception before it unwinds anything; this file defines that function for the
// executable, so it is called instead of the C++ runtime's (which it then calls), and takes the
// stack there, while the throwing function is still on it. The stack is kept, as return
// addresses, with the object's address in a small ring; describing an exception looks its
// object up there and only then turns the addresses into names. A catch site sees the object
// through a reference to it, or an exception_ptr, possibly on another thread: the ring is
// shared, under a mutex. An object freed and another allocated at its address find the newer
// record first. The ring keeps the latest 64 throws of the process: one thrown long before it
// is described, with many others since, has no backtrace.
//
// Function names come from the dynamic symbol table: an executable linked with -rdynamic (CMake
// ENABLE_EXPORTS) shows its own functions by name, others as an offset into the binary that
// addr2line turns into a file and line.

#include "remote/thrown.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <typeinfo>

namespace troupe::remote::detail {

namespace {

/// Frames kept of a throw, after the allocation's own.
constexpr int kept_frames = 24;
/// Throws the ring keeps.
constexpr std::size_t kept_throws = 64;

struct throw_record {
    const void* object = nullptr;
    int frames = 0;
    std::array<void*, kept_frames> at{};
};

struct throw_ring {
    std::mutex lock;
    std::array<throw_record, kept_throws> records{};
    std::size_t next = 0;
};

throw_ring& ring() {
    static throw_ring r;
    return r;
}

/// Records the stack of a throw of `object` from the function that `thrower` returns into.
void record_throw(const void* object, const void* thrower) noexcept {
    std::array<void*, kept_frames + 4> stack{};
    const int n = ::backtrace(stack.data(), static_cast<int>(stack.size()));
    // The frames above the throwing function's are this file's (how many depends on inlining).
    int first = 0;
    while (first < n && stack[static_cast<std::size_t>(first)] != thrower) {
        ++first;
    }
    if (first == n) {
        first = 0;  // not found (no frame pointer, an unusual unwind): keep it all
    }
    throw_record r;
    r.object = object;
    r.frames = std::min(n - first, kept_frames);
    std::memcpy(r.at.data(), stack.data() + first, sizeof(void*) * static_cast<std::size_t>(r.frames));
    throw_ring& all = ring();
    const std::lock_guard guard(all.lock);
    all.records[all.next % kept_throws] = r;
    ++all.next;
}

bool find_record(const void* object, throw_record& out) {
    throw_ring& all = ring();
    const std::lock_guard guard(all.lock);
    const std::size_t kept = std::min(all.next, kept_throws);
    for (std::size_t k = 1; k <= kept; ++k) {  // newest first
        const throw_record& r = all.records[(all.next - k) % kept_throws];
        if (r.object == object) {
            out = r;
            return true;
        }
    }
    return false;
}

std::string demangled(const char* name) {
    int status = 0;
    char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string s = status == 0 && readable != nullptr ? readable : name;
    std::free(readable);
    return s;
}

/// The file this process runs, as /proc/self/exe links to it.
const std::string& own_file() {
    static const std::string path = [] {
        std::array<char, 4096> buffer{};
        const ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
        return n > 0 ? std::string(buffer.data(), static_cast<std::size_t>(n)) : std::string("exe");
    }();
    return path;
}

/// One frame of backtrace_symbols ("/path/exe(_Z3fooi+0x1c) [0x55d1...]") as a line of ours:
/// "foo(int)+0x1c (exe)", or "exe+0x4a21" where the symbol is not known.
std::string frame_line(std::string_view raw) {
    const std::size_t open = raw.find('(');
    const std::size_t close = raw.find(')', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) {
        return std::string(raw);
    }
    std::string_view binary = raw.substr(0, open);
    if (binary == "/proc/self/exe") {
        binary = own_file();  // a child process actor runs under that path: name its file
    }
    if (const std::size_t slash = binary.rfind('/'); slash != std::string_view::npos) {
        binary.remove_prefix(slash + 1);
    }
    const std::string_view inside = raw.substr(open + 1, close - open - 1);
    const std::size_t plus = inside.rfind('+');
    const std::string symbol(inside.substr(0, plus));
    const std::string_view offset = plus == std::string_view::npos ? std::string_view{} : inside.substr(plus);
    if (symbol.empty()) {
        return std::string(binary) + std::string(offset);
    }
    return demangled(symbol.c_str()) + std::string(offset) + " (" + std::string(binary) + ")";
}

std::string backtrace_of(const void* object) {
    throw_record r;
    if (object == nullptr || !find_record(object, r) || r.frames == 0) {
        return {};
    }
    char** symbols = ::backtrace_symbols(r.at.data(), r.frames);
    if (symbols == nullptr) {
        return {};
    }
    std::string text;
    for (int i = 0; i < r.frames; ++i) {
        text += "#" + std::to_string(i) + " " + frame_line(symbols[i]) + "\n";
    }
    std::free(symbols);
    return text;
}

}  // namespace

std::string current_exception_type() {
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (type == nullptr) {
        return {};
    }
    return demangled(type->name());
}

exception_description describe_current_exception() {
    try {
        throw;
    } catch (const std::exception& e) {
        // The most derived object: the address the allocation returned.
        return {current_exception_type(), e.what(), backtrace_of(dynamic_cast<const void*>(&e))};
    } catch (...) {
        return {current_exception_type(), "an exception that is not a std::exception", {}};
    }
}

exception_description describe_exception(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (...) {
        return describe_current_exception();
    }
}

}  // namespace troupe::remote::detail

// The C++ runtime's entry point for the exception object of every throw (see the top of the file).
extern "C" void* __cxa_allocate_exception(std::size_t thrown_size) noexcept {
    using allocate = void* (*)(std::size_t) noexcept;
    static const auto runtime = reinterpret_cast<allocate>(::dlsym(RTLD_NEXT, "__cxa_allocate_exception"));
    if (runtime == nullptr) {
        std::abort();  // no C++ runtime after this executable: cannot happen where C++ runs
    }
    void* object = runtime(thrown_size);
    troupe::remote::detail::record_throw(object, __builtin_return_address(0));
    return object;
}
