// shared_secret: loading (a file whose mode is checked, or the environment) and wiping. Every
// buffer that held the secret's bytes is wiped with sodium_memzero, which the compiler may not
// drop as a dead store.

#include <troupe/remote/shared_secret.hpp>

#include <troupe/core/errors.hpp>

#include <sodium.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <utility>

namespace troupe::remote {

namespace {

void wipe(void* data, std::size_t size) noexcept {
    if (size != 0) {
        sodium_memzero(data, size);
    }
}

/// Closes a descriptor and wipes a buffer however from_file leaves.
struct reading {
    int fd = -1;
    std::string buffer;
    ~reading() {
        wipe(buffer.data(), buffer.size());
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

[[noreturn]] void refuse_file(const std::filesystem::path& path, const std::string& why) {
    throw error("troupe: the secret file " + path.string() + " " + why);
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

}  // namespace

shared_secret::shared_secret(std::string_view bytes) {
    if (bytes.size() < min_size) {
        throw error("troupe: a shared secret needs at least " + std::to_string(min_size) + " bytes, this one has " +
                    std::to_string(bytes.size()));
    }
    if (bytes.size() > max_size) {
        throw error("troupe: a shared secret has at most " + std::to_string(max_size) + " bytes, this one has " +
                    std::to_string(bytes.size()));
    }
    const auto* first = reinterpret_cast<const std::byte*>(bytes.data());
    bytes_.assign(first, first + bytes.size());
}

shared_secret shared_secret::from_file(const std::filesystem::path& path) {
    reading r;
    // Symbolic links are followed (mounted secrets are often links); what is checked is the
    // file that was opened.
    r.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (r.fd < 0) {
        refuse_file(path, std::string("cannot be read: ") + std::strerror(errno));
    }
    struct ::stat st {};
    if (::fstat(r.fd, &st) != 0) {
        refuse_file(path, std::string("cannot be read: ") + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        refuse_file(path, "is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        refuse_file(path, "may be read or written by others (mode " + octal_mode(st.st_mode) +
                              "): make it 0600 or 0400 (chmod 600)");
    }
    if (st.st_uid != ::geteuid() && st.st_uid != 0) {
        refuse_file(path, "belongs to another user (uid " + std::to_string(st.st_uid) + ")");
    }
    // Reads one byte more than a secret and its line end may take, to tell "too large".
    r.buffer.resize(max_size + 3);
    std::size_t got = 0;
    while (got < r.buffer.size()) {
        const ssize_t n = ::read(r.fd, r.buffer.data() + got, r.buffer.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            refuse_file(path, std::string("cannot be read: ") + std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    std::string_view text(r.buffer.data(), got);
    if (text.ends_with("\r\n")) {
        text.remove_suffix(2);
    } else if (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    if (text.size() < min_size || text.size() > max_size) {
        refuse_file(path, "does not hold a secret of " + std::to_string(min_size) + " to " + std::to_string(max_size) +
                              " bytes");
    }
    return shared_secret(text);
}

std::optional<shared_secret> shared_secret::from_environment() {
    const char* value = std::getenv("TROUPE_SECRET");
    const char* file = std::getenv("TROUPE_SECRET_FILE");
    if (value != nullptr && file != nullptr) {
        throw error("troupe: both TROUPE_SECRET and TROUPE_SECRET_FILE are set: set one");
    }
    if (file != nullptr) {
        return from_file(file);
    }
    if (value != nullptr) {
        try {
            return shared_secret(value);
        } catch (const error& e) {
            throw error(std::string("troupe: TROUPE_SECRET is refused: ") + e.what());
        }
    }
    return std::nullopt;
}

shared_secret::shared_secret(const shared_secret& other) = default;

shared_secret::shared_secret(shared_secret&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
}

shared_secret& shared_secret::operator=(const shared_secret& other) {
    if (this != &other) {
        shared_secret copy(other);
        *this = std::move(copy);
    }
    return *this;
}

shared_secret& shared_secret::operator=(shared_secret&& other) noexcept {
    if (this != &other) {
        wipe(bytes_.data(), bytes_.size());
        bytes_ = std::move(other.bytes_);
        other.bytes_.clear();
    }
    return *this;
}

shared_secret::~shared_secret() {
    wipe(bytes_.data(), bytes_.size());
}

std::ostream& operator<<(std::ostream& out, const shared_secret&) {
    return out << "[shared secret]";
}

}  // namespace troupe::remote
