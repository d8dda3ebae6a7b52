// libFuzzer entry point: record decoding, checked against msgpack-cxx (see targets.hpp).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    troupe_fuzz::records(data, size);
    return 0;
}
