// Replays the fuzz corpus (tests/fuzz/corpus/<target>/) through the fuzz targets' code under the
// normal build, so that every seed, and every crash a campaign found and was fixed, stays
// checked without libFuzzer.
#include "fuzz/targets.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

/// The contents of every file in the corpus directory of `target`.
std::vector<std::pair<std::string, std::vector<std::uint8_t>>> corpus(const std::string& target) {
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> files;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(TROUPE_FUZZ_CORPUS) / target)) {
        std::ifstream in(entry.path(), std::ios::binary);
        files.emplace_back(entry.path().filename().string(),
                           std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {}));
    }
    return files;
}

TEST(corpus, every_frames_seed_passes_the_frames_target) {
    const auto files = corpus("frames");
    EXPECT_GE(files.size(), 10u) << "the corpus is missing";
    for (const auto& [name, data] : files) {
        EXPECT_NO_THROW(troupe_fuzz::frames(data.data(), data.size())) << name;
    }
}

TEST(corpus, every_records_seed_passes_the_records_target) {
    const auto files = corpus("records");
    EXPECT_GE(files.size(), 10u) << "the corpus is missing";
    for (const auto& [name, data] : files) {
        EXPECT_NO_THROW(troupe_fuzz::records(data.data(), data.size())) << name;
    }
}

TEST(corpus, every_session_seed_passes_the_session_target) {
    const auto files = corpus("session");
    EXPECT_GE(files.size(), 8u) << "the corpus is missing";
    for (const auto& [name, data] : files) {
        EXPECT_NO_THROW(troupe_fuzz::session(data.data(), data.size())) << name;
    }
}

TEST(corpus, the_targets_take_empty_and_one_byte_inputs) {
    const std::uint8_t one = 0xc1;
    EXPECT_NO_THROW(troupe_fuzz::frames(nullptr, 0));
    EXPECT_NO_THROW(troupe_fuzz::records(nullptr, 0));
    EXPECT_NO_THROW(troupe_fuzz::frames(&one, 1));
    EXPECT_NO_THROW(troupe_fuzz::records(&one, 1));
    EXPECT_NO_THROW(troupe_fuzz::session(nullptr, 0));
    EXPECT_NO_THROW(troupe_fuzz::session(&one, 1));
}

}  // namespace
