// libFuzzer entry point: frame_reader and protocol decoding (see targets.hpp).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    troupe_fuzz::frames(data, size);
    return 0;
}
