// libFuzzer entry point: the remote session, the protocol of a connection (see targets.hpp).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    troupe_fuzz::session(data, size);
    return 0;
}
