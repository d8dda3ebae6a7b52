#include <troupe/remote/shared_secret.hpp>

#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

// Making a shared secret: its size bounds, its file's mode and owner, the environment, and
// that it never prints itself.

namespace {

using troupe::remote::shared_secret;

std::string text_of(const shared_secret& s) {
    return std::string(reinterpret_cast<const char*>(s.reveal().data()), s.reveal().size());
}

std::string failure(auto make) {
    try {
        make();
    } catch (const troupe::error& e) {
        return e.what();
    }
    return "no error";
}

/// A scratch directory, and files in it with a given mode.
class scratch {
public:
    scratch() {
        std::string pattern = (std::filesystem::temp_directory_path() / "troupe-secret-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        dir_ = pattern;
    }
    ~scratch() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    std::filesystem::path file(const std::string& name, std::string_view contents, mode_t mode) const {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << contents;
        ::chmod(path.c_str(), mode);
        return path;
    }
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
};

/// Sets (or unsets, with nullopt) an environment variable for the test's lifetime.
class environment_variable {
public:
    environment_variable(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        set(value);
    }
    ~environment_variable() { set(old_); }
    environment_variable(const environment_variable&) = delete;
    environment_variable& operator=(const environment_variable&) = delete;

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name_, value->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    const char* name_;
    std::optional<std::string> old_;
};

TEST(shared_secret, has_at_least_16_bytes_and_at_most_4096) {
    EXPECT_EQ(text_of(shared_secret("0123456789abcdef")), "0123456789abcdef");
    EXPECT_EQ(failure([] { shared_secret("short"); }),
              "troupe: a shared secret needs at least 16 bytes, this one has 5");
    EXPECT_EQ(failure([] { shared_secret(std::string(4097, 'x')); }),
              "troupe: a shared secret has at most 4096 bytes, this one has 4097");
    EXPECT_EQ(shared_secret(std::string(4096, 'x')).reveal().size(), 4096u);
}

TEST(shared_secret, never_prints_itself) {
    const shared_secret s("correct horse battery staple");
    std::ostringstream out;
    out << s;
    EXPECT_EQ(out.str(), "[shared secret]");
    EXPECT_EQ(::testing::PrintToString(s), "[shared secret]");
    EXPECT_EQ(::testing::PrintToString(std::optional<shared_secret>(s)), "([shared secret])");
}

TEST(shared_secret, copies_and_moves_keep_the_bytes) {
    shared_secret a("correct horse battery staple");
    shared_secret b = a;
    EXPECT_EQ(text_of(b), "correct horse battery staple");
    shared_secret c(std::move(a));
    EXPECT_EQ(text_of(c), "correct horse battery staple");
    EXPECT_TRUE(a.reveal().empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    b = shared_secret("another secret of many bytes");
    EXPECT_EQ(text_of(b), "another secret of many bytes");
    b = c;
    EXPECT_EQ(text_of(b), "correct horse battery staple");
}

TEST(shared_secret, from_file_reads_a_private_file_without_its_line_end) {
    scratch s;
    EXPECT_EQ(text_of(shared_secret::from_file(s.file("lf", "correct horse battery staple\n", 0600))),
              "correct horse battery staple");
    EXPECT_EQ(text_of(shared_secret::from_file(s.file("crlf", "correct horse battery staple\r\n", 0400))),
              "correct horse battery staple");
    EXPECT_EQ(text_of(shared_secret::from_file(s.file("bare", "correct horse battery staple", 0600))),
              "correct horse battery staple");
    // A link is followed (mounted secrets often are links): the file it names is checked.
    const auto target = s.file("target", "correct horse battery staple\n", 0600);
    std::filesystem::create_symlink(target, s.dir() / "link");
    EXPECT_EQ(text_of(shared_secret::from_file(s.dir() / "link")), "correct horse battery staple");
}

TEST(shared_secret, from_file_refuses_a_file_others_may_read) {
    scratch s;
    const auto open = s.file("open", "correct horse battery staple\n", 0644);
    EXPECT_EQ(failure([&] { shared_secret::from_file(open); }),
              "troupe: the secret file " + open.string() +
                  " may be read or written by others (mode 0644): make it 0600 or 0400 (chmod 600)");
    const auto group = s.file("group", "correct horse battery staple\n", 0640);
    EXPECT_NE(failure([&] { shared_secret::from_file(group); }).find("(mode 0640)"), std::string::npos);
    const auto writable = s.file("writable", "correct horse battery staple\n", 0602);
    EXPECT_NE(failure([&] { shared_secret::from_file(writable); }).find("(mode 0602)"), std::string::npos);
}

TEST(shared_secret, from_file_refuses_what_is_not_a_secret_file) {
    scratch s;
    EXPECT_EQ(
        failure([&] { shared_secret::from_file(s.dir() / "missing"); }),
        "troupe: the secret file " + (s.dir() / "missing").string() + " cannot be read: No such file or directory");
    ::chmod(s.dir().c_str(), 0700);
    EXPECT_EQ(failure([&] { shared_secret::from_file(s.dir()); }),
              "troupe: the secret file " + s.dir().string() + " is not a regular file");
    const auto short_one = s.file("short", "tiny\n", 0600);
    EXPECT_EQ(failure([&] { shared_secret::from_file(short_one); }),
              "troupe: the secret file " + short_one.string() + " does not hold a secret of 16 to 4096 bytes");
    const auto large = s.file("large", std::string(5000, 'x'), 0600);
    EXPECT_EQ(failure([&] { shared_secret::from_file(large); }),
              "troupe: the secret file " + large.string() + " does not hold a secret of 16 to 4096 bytes");
}

TEST(shared_secret, from_file_refuses_another_users_file) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root, to give a file to another user";
    }
    scratch s;
    const auto theirs = s.file("theirs", "correct horse battery staple\n", 0600);
    ASSERT_EQ(::chown(theirs.c_str(), 4242, 4242), 0);
    EXPECT_EQ(failure([&] { shared_secret::from_file(theirs); }),
              "troupe: the secret file " + theirs.string() + " belongs to another user (uid 4242)");
}

TEST(shared_secret, from_environment_reads_troupe_secret_or_its_file) {
    scratch s;
    {
        environment_variable value("TROUPE_SECRET", std::nullopt);
        environment_variable file("TROUPE_SECRET_FILE", std::nullopt);
        EXPECT_EQ(shared_secret::from_environment(), std::nullopt);
    }
    {
        environment_variable value("TROUPE_SECRET", "correct horse battery staple");
        environment_variable file("TROUPE_SECRET_FILE", std::nullopt);
        const auto got = shared_secret::from_environment();
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(text_of(*got), "correct horse battery staple");
    }
    {
        environment_variable value("TROUPE_SECRET", std::nullopt);
        environment_variable file("TROUPE_SECRET_FILE", s.file("key", "a secret kept in a file\n", 0600).string());
        const auto got = shared_secret::from_environment();
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(text_of(*got), "a secret kept in a file");
    }
}

TEST(shared_secret, from_environment_refuses_what_is_wrong) {
    scratch s;
    {
        environment_variable value("TROUPE_SECRET", "short");
        environment_variable file("TROUPE_SECRET_FILE", std::nullopt);
        EXPECT_EQ(failure([] { shared_secret::from_environment(); }),
                  "troupe: TROUPE_SECRET is refused: troupe: a shared secret needs at least 16 bytes, this one has 5");
    }
    {
        environment_variable value("TROUPE_SECRET", "correct horse battery staple");
        environment_variable file("TROUPE_SECRET_FILE", s.file("key", "a secret kept in a file\n", 0600).string());
        EXPECT_EQ(failure([] { shared_secret::from_environment(); }),
                  "troupe: both TROUPE_SECRET and TROUPE_SECRET_FILE are set: set one");
    }
    {
        environment_variable value("TROUPE_SECRET", std::nullopt);
        const auto open = s.file("open", "a secret kept in a file\n", 0644);
        environment_variable file("TROUPE_SECRET_FILE", open.string());
        EXPECT_NE(failure([] { shared_secret::from_environment(); }).find("(mode 0644)"), std::string::npos);
    }
}

}  // namespace
