#pragma once
/// \file
/// The exceptions troupe::wire throws. Each message says what was wrong and where.

#include <troupe/core/errors.hpp>

namespace troupe::wire {

/// Bytes that are not a valid encoding of the type asked for: the wrong msgpack type, too few
/// bytes, bytes left over, an integer out of range, nesting too deep, a length that claims more
/// than the input holds. The message names the place ("point.y: expected an integer, got a
/// string (at byte 3)").
class decode_error : public troupe::error {
public:
    using troupe::error::error;
};

/// A value msgpack cannot carry (a string, binary or container of 2^32 elements or more).
class encode_error : public troupe::error {
public:
    using troupe::error::error;
};

/// A byte stream that is not a sequence of frames (a length above the maximum), or a frame too
/// large to send. A frame_reader that threw it is closed: the stream cannot be resynchronised.
class frame_error : public troupe::error {
public:
    using troupe::error::error;
};

}  // namespace troupe::wire
