#pragma once
/// \file
/// shared_secret: the key that process actors on different hosts prove to each other before a
/// TCP connection between them opens (docs/design/wire.md, "Authentication"). It never prints
/// itself, and it is wiped from memory when it goes.
///
///     auto key = troupe::remote::shared_secret::from_file("/etc/troupe/secret");  // mode 0600
///
/// Make one with `head -c 32 /dev/urandom | base64 > secret && chmod 600 secret`.

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace troupe::remote {

/// A secret shared by every process of one deployment. Copyable; every copy is wiped when it is
/// destroyed or overwritten. Printing one (operator<<, GoogleTest) shows `[shared secret]`.
class shared_secret {
public:
    /// The fewest bytes a secret may have: shorter ones are refused as guessable.
    static constexpr std::size_t min_size = 16;
    /// The most bytes a secret may have (a file larger than this is not a secret).
    static constexpr std::size_t max_size = 4096;

    /// The secret `bytes`. Throws troupe::error if it has fewer than min_size bytes or more than
    /// max_size.
    explicit shared_secret(std::string_view bytes);
    /// Reads the secret from the file at `path` (one trailing line end is dropped). Throws
    /// troupe::error if it is not a regular file, if its group or others may read or write it
    /// (its mode must be 0600 or 0400, as ssh demands of a key), if this user (or root) does not
    /// own it, or if its size is out of bounds.
    static shared_secret from_file(const std::filesystem::path& path);
    /// The secret the environment names: TROUPE_SECRET holds it, or TROUPE_SECRET_FILE names its
    /// file (read as from_file). nullopt if neither is set; throws troupe::error if both are, or
    /// if the one that is set is refused.
    static std::optional<shared_secret> from_environment();

    shared_secret(const shared_secret& other);
    shared_secret(shared_secret&& other) noexcept;
    shared_secret& operator=(const shared_secret& other);
    shared_secret& operator=(shared_secret&& other) noexcept;
    /// Wipes the bytes.
    ~shared_secret();

    /// The bytes, for the authentication's MAC. Never log them.
    std::span<const std::byte> reveal() const noexcept { return bytes_; }

    /// Writes `[shared secret]`, never the bytes.
    friend std::ostream& operator<<(std::ostream& out, const shared_secret& s);

private:
    std::vector<std::byte> bytes_;
};

}  // namespace troupe::remote
