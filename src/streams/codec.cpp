#include <troupe/streams/codec.hpp>

namespace troupe::streams {

std::string_view name_of(serializer s) noexcept {
    switch (s) {
        case serializer::json:
            return "json";
        case serializer::msgpack:
            return "msgpack";
        case serializer::raw:
            return "raw";
        case serializer::automatic:
            break;
    }
    return "automatic";
}

}  // namespace troupe::streams
